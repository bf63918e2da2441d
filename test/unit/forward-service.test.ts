import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { startService } from '../../src/transfers/forward-tool.js';

/** One raw request on its own connection: the status line the service answers with. */
function ask(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

/** tool: forward's HTTP service listens where any local process reaches it: no request may end the run. */
describe('the forward tool\'s HTTP service', () => {
  let dir: string;
  let service: { server: Server; port: number };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xferbench-forward-'));
    await writeFile(join(dir, 'a.bin'), 'data');
    service = await startService('127.0.0.1', dir);
  });
  afterAll(async () => {
    service.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers malformed requests with 400 and goes on serving', async () => {
    const get = (path: string) => ask(service.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(await get('/%'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await get('/%E0%A4%A'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await ask(service.port, 'NOT HTTP AT ALL\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await ask(service.port, `POST /a.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`), 'HTTP/1.1 405 Method Not Allowed');
    assert.equal(await get('/../etc/passwd'), 'HTTP/1.1 404 Not Found');
    assert.equal(await get('/a.bin'), 'HTTP/1.1 200 OK');
    assert.equal(service.server.listening, true);
  });
});
