import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { dropOutputOnClosedPipe } from '../../src/cli/shared.js';

const failure = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe('the command line\'s output streams', () => {
  it('a closed pipe (a reader that stopped early) drops what is left to print; any other stream error still throws', () => {
    const out = new PassThrough();
    // Without a listener, an 'error' event throws: what `| head` did to a command still writing.
    assert.throws(() => out.emit('error', failure('EPIPE')), /EPIPE/);
    dropOutputOnClosedPipe(out);
    assert.doesNotThrow(() => out.emit('error', failure('EPIPE')));
    assert.doesNotThrow(() => out.emit('error', failure('ERR_STREAM_DESTROYED')));
    assert.throws(() => out.emit('error', failure('EIO')), /EIO/);
  });
});
