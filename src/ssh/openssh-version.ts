/** OpenSSH versions as printed by `ssh -V` / `sshd -V` / the SSH banner, and what each supports. */

export interface OpenSshVersion {
  major: number;
  minor: number;
  /** Portable release number (the `p1` in 9.2p1), 0 when absent. */
  patch: number;
  text: string;
}

export function parseOpenSshVersion(text: string): OpenSshVersion | undefined {
  const m = /OpenSSH_(\d+)\.(\d+)(?:p(\d+))?/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: m[0] };
}

export function atLeast(v: OpenSshVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** sshd_config keywords newer than what a site may run, with the release that introduced them. */
export const KEYWORD_SINCE: Record<string, [number, number]> = {
  PerSourceMaxStartups: [8, 5],
  PerSourceNetBlockSize: [8, 5],
  PerSourcePenalties: [9, 8],
  PerSourcePenaltyExemptList: [9, 8],
  RefuseConnection: [10, 0],
};

/** Returns a message for each keyword this sshd does not know, naming the version it needs. */
export function unsupportedKeywords(keys: readonly string[], version: OpenSshVersion): { key: string; message: string }[] {
  return keys.flatMap((key) => {
    const since = KEYWORD_SINCE[key];
    if (!since || atLeast(version, since[0], since[1])) return [];
    return [{ key, message: `${key} needs OpenSSH ${since[0]}.${since[1]} or newer; this sshd is ${version.text}` }];
  });
}
