import type Redis from 'ioredis';
import { KV_DELETE, KV_LIST, KV_SET, LOCK_RELEASE, LOCK_RENEW } from './lua-kv';
import { Q_DEAD_LIST, Q_ENQUEUE, Q_GET, Q_LEASE, Q_LIST, Q_PURGE, Q_REMOVE, Q_REPLAY, Q_SETTLE, Q_STATS } from './lua-queue';

type Arg = string | number | Buffer;
type Reply = Promise<unknown>;

/** The store's Lua scripts as client methods (EVALSHA, falling back to EVAL after a restart or failover). */
export interface Scripts {
  ghKvSet(entry: string, index: string, rev: string, expiries: string, ...argv: Arg[]): Reply;
  ghKvDelete(entry: string, index: string, rev: string, expiries: string, ...argv: Arg[]): Reply;
  ghKvList(index: string, expiries: string, ...argv: Arg[]): Reply;
  ghLockRenew(lock: string, ...argv: Arg[]): Reply;
  ghLockRelease(lock: string, ...argv: Arg[]): Reply;
  ghQEnqueue(queues: string, ...argv: Arg[]): Reply;
  ghQLease(base: string, ...argv: Arg[]): Reply;
  ghQSettle(base: string, ...argv: Arg[]): Reply;
  ghQGet(base: string, ...argv: Arg[]): Reply;
  ghQRemove(base: string, ...argv: Arg[]): Reply;
  ghQList(base: string, ...argv: Arg[]): Reply;
  ghQDeadList(base: string, ...argv: Arg[]): Reply;
  ghQReplay(base: string, ...argv: Arg[]): Reply;
  ghQPurge(base: string, ...argv: Arg[]): Reply;
  ghQStats(base: string, ...argv: Arg[]): Reply;
}

const DEFINITIONS: [keyof Scripts, number, string][] = [
  ['ghKvSet', 4, KV_SET],
  ['ghKvDelete', 4, KV_DELETE],
  ['ghKvList', 2, KV_LIST],
  ['ghLockRenew', 1, LOCK_RENEW],
  ['ghLockRelease', 1, LOCK_RELEASE],
  ['ghQEnqueue', 1, Q_ENQUEUE],
  ['ghQLease', 1, Q_LEASE],
  ['ghQSettle', 1, Q_SETTLE],
  ['ghQGet', 1, Q_GET],
  ['ghQRemove', 1, Q_REMOVE],
  ['ghQList', 1, Q_LIST],
  ['ghQDeadList', 1, Q_DEAD_LIST],
  ['ghQReplay', 1, Q_REPLAY],
  ['ghQPurge', 1, Q_PURGE],
  ['ghQStats', 1, Q_STATS],
];

/** Register the scripts on a client and return it typed with them. */
export function defineScripts(client: Redis): Redis & Scripts {
  for (const [name, numberOfKeys, lua] of DEFINITIONS) client.defineCommand(name, { numberOfKeys, lua });
  return client as Redis & Scripts;
}
