import { readFileSync } from 'node:fs';

/** The options every CLI command talking to a running gatehouse takes (parseArgs form). */
export const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

/** Where and how to reach the admin API: `--admin`/GATEHOUSE_ADMIN_URL, the token from `--token-file` or GATEHOUSE_ADMIN_TOKEN (never argv). */
export type AdminTarget = { url: string; token: string } | { problem: string };

/** Resolve the admin target from flags and environment, or say what is missing. */
export function adminTarget(flags: { admin?: string; 'token-file'?: string }, env: NodeJS.ProcessEnv): AdminTarget {
  let token: string | undefined;
  try {
    token = flags['token-file'] ? readFileSync(flags['token-file'], 'utf8').trim() : env.GATEHOUSE_ADMIN_TOKEN;
  } catch (err) {
    return { problem: `cannot read --token-file: ${(err as Error).message}` };
  }
  if (!token) return { problem: 'no admin token: pass --token-file FILE or set GATEHOUSE_ADMIN_TOKEN' };
  return { url: (flags.admin ?? env.GATEHOUSE_ADMIN_URL ?? 'http://127.0.0.1:9901').replace(/\/+$/, ''), token };
}
