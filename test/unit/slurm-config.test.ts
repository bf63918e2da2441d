import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { renderSlurmConf } from '../../src/executors/slurm/slurm-config.js';

describe('private Slurm cluster configuration', () => {
  const conf = renderSlurmConf({ clusterName: 'xferbench', dir: '/s/run-1/slurm', ctldPort: 7001, nodes: [{ name: 'n1', port: 7002 }, { name: 'n2', port: 7003 }], cpus: 8, user: 'root' });

  it('listens on loopback only, keeps every file in its folder, one port per node', () => {
    assert.match(conf, /^SlurmctldHost=localhost\(127\.0\.0\.1\)$/m);
    assert.match(conf, /^NodeName=n1 NodeAddr=127\.0\.0\.1 NodeHostname=localhost Port=7002 CPUs=8 /m);
    assert.match(conf, /^NodeName=n2 NodeAddr=127\.0\.0\.1 .*Port=7003/m);
    for (const key of ['StateSaveLocation', 'SlurmdSpoolDir', 'SlurmctldPidFile', 'SlurmdPidFile', 'SlurmctldLogFile', 'SlurmdLogFile']) {
      assert.match(conf, new RegExp(`^${key}=/s/run-1/slurm/`, 'm'), key);
    }
    assert.doesNotMatch(conf, /NodeAddr=(?!127\.0\.0\.1)/);
  });

  it('runs without munge or systemd, and hands dependent jobs on within about a second', () => {
    for (const line of ['AuthType=auth/none', 'CredType=cred/none', 'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000', 'DependencyParameters=kill_invalid_depend']) {
      assert.ok(conf.split('\n').includes(line), line);
    }
  });

  it('refuses a value that would not be one word of the file', () => {
    assert.throws(() => renderSlurmConf({ clusterName: 'x', dir: '/s/a b\nAuthType=x', ctldPort: 1, nodes: [], cpus: 1, user: 'root' }), /not safe/);
  });
});

describe('private Slurm cluster: licenses and job numbering', () => {
  it('a stage concurrency is a license count; a resumed run numbers its jobs on', () => {
    const conf = renderSlurmConf({ clusterName: 'x', dir: '/s', ctldPort: 1, nodes: [{ name: 'n1', port: 2 }], cpus: 2, user: 'root', licenses: { xb_stage_in: 4 }, firstJobId: 57 });
    assert.ok(conf.split('\n').includes('Licenses=xb_stage_in:4'));
    assert.ok(conf.split('\n').includes('FirstJobId=57'));
    const plain = renderSlurmConf({ clusterName: 'x', dir: '/s', ctldPort: 1, nodes: [], cpus: 1, user: 'root' });
    assert.doesNotMatch(plain, /Licenses=|FirstJobId=/);
  });
});
