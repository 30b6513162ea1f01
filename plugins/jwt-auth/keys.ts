import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALGORITHMS, describeKey, isHmac, keyFits, MIN_RSA_BITS, type Algorithm } from './algorithms';
import { errors } from './errors';
import type { JwksKeys } from './jwks';
import type { JwtAuthOptions, KeySource } from './schema';
import type { KeyMaterial } from './verify';

/** A public key read from the config, with the configured algorithms it verifies. */
export interface PublicKeyEntry {
  readonly key: KeyObject;
  readonly algorithms: readonly Algorithm[];
}

/** Strict base64 (padding optional), so a typo is not decoded into other key bytes. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Where a source is, for messages: its file, or the option it is written in. */
export function whereOf(source: KeySource, option: string, configDir: string): string {
  return typeof source === 'string' ? option : resolve(configDir, source.file);
}

/** The text of a source: inline, or a file's contents without its trailing newline. */
export function readSource(source: KeySource, configDir: string): string {
  if (typeof source === 'string') return source;
  const file = resolve(configDir, source.file);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw errors.create('KEY_UNREADABLE', `${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The HMAC key bytes of the secret. */
export function secretBytes(text: string, encoding: JwtAuthOptions['secretEncoding'], where: string): Uint8Array {
  if (text === '') throw errors.create('KEY_UNREADABLE', `${where}: the secret is empty`);
  if (encoding === 'utf8') return new TextEncoder().encode(text);
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw errors.create('KEY_UNREADABLE', `${where}: the secret is not base64`);
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/** Every public key in a PEM text (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE blocks; a private key is refused). */
export function pemKeys(text: string, where: string): KeyObject[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw errors.create('KEY_UNREADABLE', `${where} holds no PEM block (-----BEGIN PUBLIC KEY----- …)`);
  return blocks.map((m, i) => {
    const at = blocks.length > 1 ? `${where}, PEM block ${i + 1}` : where;
    if (m[1].includes('PRIVATE'))
      throw errors.create('KEY_UNREADABLE', `${at} is a private key; give the public key (or a certificate), which is all verifying needs`);
    let key: KeyObject;
    try {
      key = createPublicKey(m[0]);
    } catch (err) {
      throw errors.create('KEY_UNREADABLE', `${at} is not a PEM public key or certificate: ${(err as Error).message}`);
    }
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits !== undefined && bits < MIN_RSA_BITS)
      throw errors.create('KEY_UNREADABLE', `${at} is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required (RFC 7518 §3.3)`);
    return key;
  });
}

/** The `publicKey` sources with the JSON pointer and option name of each. */
export function publicKeySources(options: Readonly<JwtAuthOptions>): { source: KeySource; pointer: string; option: string }[] {
  const pk = options.publicKey;
  if (pk === undefined) return [];
  if (!Array.isArray(pk)) return [{ source: pk, pointer: '/publicKey', option: 'publicKey' }];
  return pk.map((source, i) => ({ source, pointer: `/publicKey/${i}`, option: `publicKey[${i}]` }));
}

/** The keys of one source, each with the configured algorithms it fits; a key that fits none is refused. */
export function keysOf(source: KeySource, option: string, options: Readonly<JwtAuthOptions>, configDir: string): PublicKeyEntry[] {
  const where = whereOf(source, option, configDir);
  const asymmetric = options.algorithms.filter((a) => !isHmac(a));
  return pemKeys(readSource(source, configDir), where).map((key) => {
    const algorithms = asymmetric.filter((a) => keyFits(key, a));
    if (algorithms.length === 0) {
      const could = ALGORITHMS.filter((a) => !isHmac(a) && keyFits(key, a));
      const hint = could.length ? `; it verifies ${could.join(', ')}` : '; gatehouse verifies no algorithm with it';
      throw errors.create(
        'KEY_UNREADABLE',
        `${where} is an ${describeKey(key)} key, which none of the algorithms (${options.algorithms.join(', ')}) uses${hint}`,
      );
    }
    return { key, algorithms };
  });
}

/** Every configured public key (read at start: files are I/O). */
export function publicKeys(options: Readonly<JwtAuthOptions>, configDir: string): PublicKeyEntry[] {
  return publicKeySources(options).flatMap((s) => keysOf(s.source, s.option, options, configDir));
}

/** What tokens are verified with: the secret's bytes, the PEM keys, or the key set (read at start: files are I/O). */
export function readKeyMaterial(options: Readonly<JwtAuthOptions>, configDir: string, jwks: JwksKeys | undefined): KeyMaterial {
  if (jwks) return { kind: 'jwks', jwks };
  if (options.secret !== undefined) {
    const where = whereOf(options.secret, 'secret', configDir);
    return { kind: 'secret', secret: secretBytes(readSource(options.secret, configDir), options.secretEncoding, where) };
  }
  return { kind: 'pem', keys: publicKeys(options, configDir) };
}
