import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, type JWK, type JWTPayload } from 'jose';
import { createGateway, type Gateway, type PluginDefinition } from '../../../app';
import { tempDir } from '../../helpers/gatehouse-process';
import { echo, startBackend, testLogger, type Teardown } from '../../helpers/servers';

/** The HS512 secret of the tests (an SG-style shared secret). */
export const SECRET = 'a-shared-secret-of-the-service-gateway-64-bytes-long-for-hs512!!';
export const AUDIENCE = 'vesta';
export const ISSUER = 'https://issuer.test';

/** A private key and its public half as PEM text and as a JWK. */
export interface Pair {
  readonly privateKey: KeyObject;
  readonly pem: string;
  readonly jwk: JWK;
}

const generate = promisify(generateKeyPair) as (type: string, options: object) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

async function pair(type: 'rsa' | 'ec' | 'ed25519'): Promise<Pair> {
  const options = type === 'rsa' ? { modulusLength: 2048 } : type === 'ec' ? { namedCurve: 'P-256' } : {};
  const { privateKey, publicKey } = await generate(type, options);
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, jwk: publicKey.export({ format: 'jwk' }) as JWK };
}

/** The keys the tests sign with (Node KeyObjects, usable under any algorithm of their kind), made once per test file. */
export async function makeKeys() {
  const [rsa, rsa2, ec, ed] = await Promise.all([pair('rsa'), pair('rsa'), pair('ec'), pair('ed25519')]);
  return { rsa, rsa2, ec, ed };
}
export type Keys = Awaited<ReturnType<typeof makeKeys>>;

/** Epoch seconds now. */
export const now = () => Math.floor(Date.now() / 1000);

/**
 * A signed token: `claims` over defaults (aud, iss, sub, iat now, exp in 10 minutes; a claim set
 * to undefined is left out), signed with `key` under `alg` (a string key is an HMAC secret).
 */
export async function sign(
  claims: Record<string, unknown> = {},
  opts: { alg?: string; key?: KeyObject | string; kid?: string } = {},
): Promise<string> {
  const alg = opts.alg ?? 'HS512';
  const body: Record<string, unknown> = { aud: AUDIENCE, iss: ISSUER, sub: 'user-1', iat: now(), exp: now() + 600, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const key = opts.key ?? SECRET;
  return new SignJWT(body as JWTPayload)
    .setProtectedHeader({ alg, typ: 'JWT', ...(opts.kid !== undefined ? { kid: opts.kid } : {}) })
    .sign(typeof key === 'string' ? new TextEncoder().encode(key) : key);
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsigned(claims: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ aud: AUDIENCE, iss: ISSUER, sub: 'user-1', exp: now() + 600, ...claims })}.`;
}

/** A directory holding the public keys as PEM files (rsa.pem, rsa2.pem, ec.pem, ed.pem, both.pem), to be the config dir. */
export function keyDir(t: Teardown & { teardown(fn: () => void): void }, keys: Keys): string {
  const dir = tempDir(t, 'jwt-auth-');
  for (const [name, p] of Object.entries(keys)) writeFileSync(join(dir, `${name}.pem`), p.pem);
  writeFileSync(join(dir, 'both.pem'), `${keys.rsa2.pem}${keys.rsa.pem}`);
  writeFileSync(join(dir, 'secret.txt'), `${SECRET}\n`);
  return dir;
}

let configs = 0;

/**
 * A gateway whose one route runs jwt-auth with `options` (then `after`, e.g. a test plugin) in
 * front of an echo backend, from a config file in `dir` (the config dir). Closed when `t` ends.
 */
export async function jwtGateway(
  t: Teardown,
  options: Record<string, unknown>,
  opts: {
    dir?: string;
    after?: Record<string, unknown>[];
    plugins?: PluginDefinition[];
    backend?: http.RequestListener;
    logger?: Logger;
    /** Merged into the route (e.g. websocket: true). */
    route?: Record<string, unknown>;
    /** Merged into the config's server block (e.g. trustProxy). */
    server?: Record<string, unknown>;
  } = {},
): Promise<{ gw: Gateway; url: string }> {
  const be = await startBackend(t, opts.backend ?? echo);
  // A config file, so that its directory is the config dir that { file } options are relative to.
  const dir = opts.dir ?? tempDir(t, 'jwt-auth-');
  const file = join(dir, `gatehouse-${++configs}.json`);
  const config = {
    server: { http: { port: 0, host: '127.0.0.1' }, ...opts.server },
    log: { accessLog: false },
    upstreams: { be: { targets: [be.url] } },
    routes: [{ match: { path: '/' }, upstream: 'be', ...opts.route, plugins: [{ 'jwt-auth': options }, ...(opts.after ?? [])] }],
  };
  writeFileSync(file, JSON.stringify(config));
  const gw = await createGateway({
    config: file,
    logger: opts.logger ?? testLogger(),
    ...(opts.plugins ? { plugins: opts.plugins } : {}),
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}` };
}

/** The value of one series of the plugin's verification counter (0 when absent). */
export async function counted(gw: Gateway, outcome: string): Promise<number> {
  const text = await gw.metrics.registry.metrics();
  const m = new RegExp(`^gatehouse_jwt_auth_verifications_total\\{outcome="${outcome}"[^}]*\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
