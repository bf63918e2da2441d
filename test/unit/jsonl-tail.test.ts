import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlTail } from '../../src/records/jsonl-tail.js';

describe('JsonlTail', () => {
  it('reads each complete line once, waits for a line still being written, follows only the files asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xb-tail-'));
    try {
      const tail = new JsonlTail(dir, (name) => name !== 'other.jsonl');
      assert.deepEqual(await tail.read(), [], 'an empty folder');
      await writeFile(join(dir, 'a.jsonl'), '{"n":1}\n{"n":2}\n{"n":');
      await writeFile(join(dir, 'other.jsonl'), '{"n":99}\n');
      await writeFile(join(dir, 'a.txt'), '{"n":98}\n');
      assert.deepEqual(await tail.read(), [{ n: 1 }, { n: 2 }]);
      assert.deepEqual(await tail.read(), [], 'nothing new');
      await appendFile(join(dir, 'a.jsonl'), '3}\n');
      await writeFile(join(dir, 'b.jsonl'), '{"n":4}\n');
      assert.deepEqual(await tail.read(), [{ n: 3 }, { n: 4 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
