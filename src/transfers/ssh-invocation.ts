import type { MuxMode } from '../scenario/scenario-schema.js';
import { sshdValueText } from '../scenario/sshd-options.js';

export interface SshOptionsInput {
  configPath: string;
  via: readonly string[];
  mux: MuxMode;
  /** Directory for ControlMaster sockets (short: UNIX socket paths are limited to ~104 bytes). */
  controlDir: string;
  /** Seconds a cold-started master lingers; a backstop should the harness die before `-O exit`. */
  controlPersistS?: number;
  extra: Readonly<Record<string, string | number | boolean>>;
}

export function controlPath(controlDir: string): string {
  return `${controlDir}/%C`;
}

/**
 * ssh options for every transfer of a cell. `off` disables multiplexing explicitly; `cold` lets
 * concurrent first connections race to become the master (the start-up race under study); `warm`
 * only ever uses the master xferbench opened beforehand.
 */
export function sshOptions(input: SshOptionsInput): string[] {
  const opts = ['-F', input.configPath];
  if (input.via.length > 0) opts.push('-J', input.via.join(','));
  const o = (kv: string) => opts.push('-o', kv);
  switch (input.mux) {
    case 'off':
      o('ControlMaster=no');
      o('ControlPath=none');
      break;
    case 'cold':
      o('ControlMaster=auto');
      o(`ControlPath=${controlPath(input.controlDir)}`);
      o(`ControlPersist=${input.controlPersistS ?? 30}`);
      break;
    case 'warm':
      o('ControlMaster=no');
      o(`ControlPath=${controlPath(input.controlDir)}`);
      break;
  }
  for (const [k, v] of Object.entries(input.extra)) o(`${k}=${sshdValueText(v)}`);
  return opts;
}
