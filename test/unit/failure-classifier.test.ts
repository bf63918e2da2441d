import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { RSYNC_EXIT_CLASSES } from '../../src/transfers/rsync-tool.js';
import { classify } from '../../src/transfers/failure-classifier.js';
import { parseOpenSshVersion } from '../../src/ssh/openssh-version.js';

const v92 = parseOpenSshVersion('OpenSSH_9.2p1')!;
const v99 = parseOpenSshVersion('OpenSSH_9.9p1')!;
const RSYNC_255 = 'rsync: connection unexpectedly closed (0 bytes received so far) [sender]\nrsync error: unexplained error (code 255) at io.c(232) [sender=3.2.7]\n';

// Real client output, as OpenSSH, rsync, scp and sftp print it (docs/openssh-messages.md).
const CASES: [string, string, number, string | null, string[]?][] = [
  ['MaxStartups drop, closed', `kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.2 port 2222\r\n${RSYNC_255}`, 255, 'maxstartups_drop'],
  ['MaxStartups drop, reset', 'kex_exchange_identification: read: Connection reset by peer\r\nConnection reset by 127.0.0.2 port 43125\r\nrsync: [sender] safe_write failed to write 4 bytes to socket: Broken pipe (32)\nrsync error: unexplained error (code 255) at io.c(387) [sender=3.5.0]\n', 255, 'maxstartups_drop', ['maxstartups_drop']],
  ['old clients', 'ssh_exchange_identification: read: Connection reset by peer\r\n', 255, 'maxstartups_drop'],
  ['MaxSessions via mux, then success', 'mux_client_request_session: session request failed: Session open refused by peer\r\n', 0, null, ['maxsessions_refused']],
  ['MaxSessions on a plain connection', 'channel 3: open failed: connect failed: open failed\r\n', 1, 'maxsessions_refused'],
  ['MaxSessions, the ssh2 library (tool: ssh2-sftp)', 'ssh2: channel: (SSH) Channel open failure: open failed\n', 255, 'maxsessions_refused'],
  ['MaxStartups, the ssh2 library', 'ssh2: handshake: read ECONNRESET\n', 255, 'maxstartups_drop'],
  ['mux race, fell back and succeeded', 'ControlSocket /tmp/xb-1/c0r1/4f2a already exists, disabling multiplexing\r\n', 0, null, ['mux_race']],
  ['mux race, then dropped', `ControlSocket /tmp/x/ab already exists, disabling multiplexing\r\nkex_exchange_identification: Connection closed by remote host\r\n${RSYNC_255}`, 255, 'maxstartups_drop', ['maxstartups_drop', 'mux_race']],
  ['banner timeout', 'Connection timed out during banner exchange\r\nConnection to 127.0.0.2 port 2222 timed out\r\n', 255, 'timeout'],
  ['rsync I/O timeout', '[sender] io timeout after 30 seconds -- exiting\nrsync error: timeout in data send/receive (code 30) at io.c(197) [sender=3.2.7]\n', 30, 'timeout'],
  ['auth', 'root@127.0.0.2: Permission denied (publickey).\r\n', 255, 'auth'],
  ['host key', 'No ED25519 host key is known for [127.0.0.2]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n', 255, 'host_key'],
  ['refused', 'ssh: connect to host 127.0.0.2 port 2222: Connection refused\r\n', 255, 'connection_refused'],
  ['disk full', 'rsync: [receiver] write failed on "/data/file-01.bin": No space left on device (28)\nrsync error: error in file IO (code 11) at receiver.c(380) [receiver=3.2.7]\n', 11, 'no_space'],
  ['remote path', 'rsync: [Receiver] change_dir#3 "/nope" failed: No such file or directory (2)\nrsync error: errors selecting input/output files, dirs (code 3) at main.c(829) [Receiver=3.2.7]\n', 3, 'remote_error'],
  ['scp remote path', 'scp: /nope/file: No such file or directory\r\n', 1, 'remote_error'],
  ['sftp remote path', 'dest open "/nope/file": No such file or directory\r\n', 1, 'remote_error'],
  ['jump host down: its refusal, not the outer kex line', `ssh: connect to host 127.0.0.2 port 42903: Connection refused\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n${RSYNC_255}`, 255, 'connection_refused', ['connection_refused', 'maxstartups_drop']],
  ['jump host cut mid key exchange', `Connection reset by 127.0.0.2 port 42903\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n${RSYNC_255}`, 255, 'connection_reset', ['connection_reset', 'maxstartups_drop']],
  ['MaxStartups drop at the jump host, then the outer hop\'s kex line', `kex_exchange_identification: read: Connection reset by peer\r\nConnection reset by 127.0.0.2 port 42903\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n${RSYNC_255}`, 255, 'maxstartups_drop', ['maxstartups_drop']],
  ['session cut mid-transfer', `Connection to 127.0.0.2 closed by remote host.\r\nssh_dispatch_run_fatal: Connection to UNKNOWN port 65535: Broken pipe\r\n${RSYNC_255}`, 255, 'connection_reset', ['connection_reset']],
  ['master killed, fell back and succeeded', 'Control socket connect(/tmp/xb-Kd/c0r1/l0/b6fb7e52): Connection refused\r\n', 0, null, ['mux_master_lost']],
  ['master gone, then dropped', `Control socket connect(/tmp/xb-Kd/c0r1/l0/b6fb7e52): No such file or directory\r\nkex_exchange_identification: Connection closed by remote host\r\n${RSYNC_255}`, 255, 'maxstartups_drop', ['maxstartups_drop', 'mux_master_lost']],
  ['no cipher both ends accept', `Unable to negotiate with UNKNOWN port 65535: no matching cipher found. Their offer: aes128-ctr,aes256-ctr\r\nrsync: connection unexpectedly closed (0 bytes received so far) [Receiver]\nrsync error: error in rsync protocol data stream (code 12) at io.c(285) [Receiver=3.5.0]\n`, 12, 'negotiation'],
  ['no key exchange both ends accept', 'Unable to negotiate with 127.0.0.2 port 40022: no matching key exchange method found. Their offer: curve25519-sha256\r\n', 255, 'negotiation'],
  ['unrecognised', 'something odd happened\n', 1, 'unknown'],
  ['harness timeout', '', 143, 'timeout'],
];

describe('failure classifier', () => {
  for (const [name, stderr, exitCode, primary, classes] of CASES) {
    it(name, () => {
      const r = classify({ stderr, exitCode, timedOut: name === 'harness timeout', clientVersion: v92, exitClasses: RSYNC_EXIT_CLASSES });
      assert.equal(r.primary, primary);
      if (classes) assert.deepEqual(r.classes, classes);
    });
  }

  it('recognises a bare "Connection closed" as a drop only on clients that hide the kex line (>= 9.5)', () => {
    const stderr = 'Connection closed by 127.0.0.2 port 2222\r\n';
    assert.equal(classify({ stderr, exitCode: 255, clientVersion: v99 }).primary, 'maxstartups_drop');
    assert.equal(classify({ stderr, exitCode: 255, clientVersion: v92 }).primary, 'unknown');
  });

  it("takes a class from rsync's exit code only where no message explains it", () => {
    // Under disk_full the far receiver can exit before its error line reaches the client.
    const connected = 'xferbench: connected from [127.0.0.1]:49590 to [127.0.0.2]:35747\n';
    assert.deepEqual(classify({ stderr: connected, exitCode: 11, exitClasses: RSYNC_EXIT_CLASSES }), { classes: ['io_error'], primary: 'io_error' });
    assert.equal(classify({ stderr: '', exitCode: 35, exitClasses: RSYNC_EXIT_CLASSES }).primary, 'timeout');
    const full = 'rsync: [receiver] write failed on "/d/f": No space left on device (28)\nrsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.5.0]\n';
    assert.deepEqual(classify({ stderr: full, exitCode: 11, exitClasses: RSYNC_EXIT_CLASSES }).classes, ['no_space']);
    // Another tool's 11 means whatever that tool means by it.
    assert.equal(classify({ stderr: '', exitCode: 11 }).primary, 'unknown');
  });

  it("reads rsync's 'connection unexpectedly closed' as a cut connection only where ssh said nothing", () => {
    const cut = 'rsync: connection unexpectedly closed (32768 bytes received so far) [sender]\nrsync error: error in rsync protocol data stream (code 12) at io.c(232) [sender=3.5.0]\n';
    assert.deepEqual(classify({ stderr: cut, exitCode: 12, exitClasses: RSYNC_EXIT_CLASSES }), { classes: ['connection_reset'], primary: 'connection_reset' });
    assert.deepEqual(classify({ stderr: `kex_exchange_identification: Connection closed by remote host\r\n${cut}`, exitCode: 12 }).classes, ['maxstartups_drop']);
    // Under kill_master: the session's master was killed, and its ssh exited 255 saying nothing.
    for (const lost of ['rsync error: unexplained error (code 255) at main.c(1394) [sender=3.5.0]\n', 'rsync: [sender] safe_write failed to write 30 bytes to socket: Broken pipe (32)\nrsync error: unexplained error (code 255) at io.c(387) [sender=3.5.0]\n']) {
      assert.equal(classify({ stderr: lost, exitCode: 255 }).primary, 'connection_reset', lost);
    }
  });

  it('gives no primary class on success', () => {
    assert.deepEqual(classify({ stderr: '', exitCode: 0 }), { classes: [], primary: null });
  });
});
