import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildPrefixTable } from '../../core/plugin-api';
import { errors } from './errors';
import type { PresetSettings, UnsignedPolicy } from './presets/types';
import { ROCKBLOCK_PUBLIC_KEY } from './rockblock-key';
import type { SecretSource, WebhookIngestOptions } from './schema';

/** The text of a secret: inline, or a file's contents without its trailing newline. */
export function readSecret(source: SecretSource, configDir: string): string {
  if (typeof source === 'string') return source;
  const file = resolve(configDir, source.file);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw errors.create('SECRET_UNREADABLE', `${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

/** An RSA public key from PEM text (a certificate's key is taken too). */
export function rsaKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw errors.create('SECRET_UNREADABLE', `${where} is not a PEM public key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') throw errors.create('SECRET_UNREADABLE', `${where} is a ${key.asymmetricKeyType} key, not RSA`);
  return key;
}

/** The rockblock unsigned-post policy: IMEIs and source CIDRs. */
export function unsignedPolicy(allow: { imeis: readonly string[]; cidrs: readonly string[] }): UnsignedPolicy {
  const table = allow.cidrs.length > 0 ? buildPrefixTable(allow.cidrs.map((c) => [c, true] as const)) : undefined;
  return {
    imeis: new Set(allow.imeis),
    allowsIp: (ip) => table?.lookup(ip) === true,
  };
}

/** Read every secret and key the options name (at start: files are I/O) into what the presets are built from. */
export function presetSettings(options: Readonly<WebhookIngestOptions>, configDir: string): PresetSettings {
  const v = options.verify;
  const keys =
    options.preset !== 'rockblock'
      ? []
      : v.keys === undefined
        ? [rsaKey(ROCKBLOCK_PUBLIC_KEY, 'the shipped RockBLOCK key')]
        : v.keys.map((k, i) => rsaKey(readSecret(k, configDir), typeof k === 'string' ? `verify.keys[${i}]` : k.file));
  return {
    required: v.required,
    secrets: v.secrets.map((s) => readSecret(s, configDir)),
    keys,
    toleranceSec: v.toleranceSec,
    ...(v.header !== undefined ? { header: v.header } : {}),
    algorithm: v.algorithm,
    encoding: v.encoding,
    prefix: v.prefix,
    allowUnsigned: unsignedPolicy(v.allowUnsigned),
  };
}
