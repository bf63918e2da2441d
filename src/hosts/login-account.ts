import { userInfo } from 'node:os';

/** The account transfers log in as on every host: the one running xferbench. */
export interface LoginAccount {
  name: string;
  uid: number;
  gid: number;
}

export function loginAccount(): LoginAccount {
  const u = userInfo();
  return { name: u.username, uid: u.uid, gid: u.gid };
}
