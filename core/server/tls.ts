import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { GatehouseError } from '../errors';

/** What a self-signed certificate should cover. */
export interface CertRequest {
  /** Common name; also a SAN (DNS or IP as appropriate). */
  host: string;
  sanIps?: string[];
  sanDns?: string[];
  /** Validity in days. Default: 3650 (10 years), like the region service's generator. */
  days?: number;
}

/** A PEM pair with the certificate's SHA-256 fingerprint (what clients pin). */
export interface CertPair {
  cert: string;
  key: string;
  fingerprint: string;
}

/** Generate an RSA-2048 / SHA-256 self-signed certificate for a server. */
export async function generateCertificate(req: CertRequest): Promise<CertPair> {
  const days = req.days ?? 3650;
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86_400_000);
  const ips = new Set(req.sanIps ?? []);
  const dns = new Set(req.sanDns ?? []);
  (isIP(req.host) ? ips : dns).add(req.host);
  const altNames = [...[...dns].map((value) => ({ type: 2, value })), ...[...ips].map((ip) => ({ type: 7, ip }))];
  // Loaded on first use: selfsigned and its x509 stack cost ~7 MiB of RSS that a
  // gateway without self-signed TLS never needs.
  const selfsigned = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: req.host }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  } as never);
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

/** Write a pair as `cert.pem` / `key.pem` (key readable by the owner only). */
export function writeCertificate(dir: string, pair: CertPair): { certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  chmodSync(keyFile, 0o600); // `mode` applies only when the file is created

  return { certFile, keyFile };
}

/**
 * The certificate kept in `dir`, generated on first use: the same certificate is
 * served across restarts, so clients can pin it.
 */
export async function persistedCertificate(dir: string, hosts: string[], days: number): Promise<{ cert: string; key: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  const [host, ...rest] = hosts;
  const pair = await generateCertificate({ host, sanIps: rest.filter((h) => isIP(h)), sanDns: rest.filter((h) => !isIP(h)), days });
  writeCertificate(dir, pair);
  return pair;
}

/** A problem with a TLS source, at the JSON path (under `server.https`) of the setting to fix. */
export interface TlsProblem {
  readonly key: 'cert' | 'key' | 'selfSigned';
  readonly message: string;
}

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'is not below a directory',
};

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return REASONS[e.code ?? ''] ?? `cannot be read (${e.code ?? e.message})`;
}

/** OpenSSL's reason without its numeric prefix: "error:0480006C:PEM routines::no start line" → "PEM routines: no start line". */
function opensslReason(err: unknown): string {
  return (err as Error).message.replace(/^error:[0-9A-F]+:/, '').replace(/::/, ': ');
}

function readPem(file: string, key: TlsProblem['key'], problems: TlsProblem[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ key, message: `${file} ${reason(err)}` });
    return undefined;
  }
}

/** Parse a cert/key pair as the https listener will, naming the file at fault. */
function checkPair(
  certFile: string,
  keyFile: string,
  at: TlsProblem['key'] | undefined,
  problems: TlsProblem[],
): { cert: string; key: string } | undefined {
  const cert = readPem(certFile, at ?? 'cert', problems);
  const key = readPem(keyFile, at ?? 'key', problems);
  if (cert === undefined || key === undefined) return undefined;
  try {
    createSecureContext({ cert });
  } catch (err) {
    problems.push({ key: at ?? 'cert', message: `${certFile} is not a usable PEM certificate (${opensslReason(err)})` });
    return undefined;
  }
  try {
    createSecureContext({ key });
  } catch (err) {
    problems.push({
      key: at ?? 'key',
      message: `${keyFile} is not a usable PEM private key (${opensslReason(err)}; an encrypted key is not supported)`,
    });
    return undefined;
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    problems.push({ key: at ?? 'key', message: `${keyFile} does not belong to the certificate ${certFile} (${opensslReason(err)})` });
    return undefined;
  }
  return { cert, key };
}

/** The nearest existing directory at or above `dir`. */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * Check the https listener's certificate source without opening it: cert/key files readable,
 * PEM, and a matching pair; for `selfSigned`, the kept pair (if any) likewise, or a directory
 * it can be written to. Used by `validate` (so it refuses what `start` would) and by the listener.
 */
export function tlsProblems(
  baseDir: string,
  https: { cert?: string; key?: string; selfSigned?: { dir: string } },
): { problems: TlsProblem[]; pair?: { cert: string; key: string } } {
  const problems: TlsProblem[] = [];
  if (https.selfSigned) {
    const dir = resolve(baseDir, https.selfSigned.dir);
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    if (existsSync(certFile) && existsSync(keyFile)) return { problems, pair: checkPair(certFile, keyFile, 'selfSigned', problems) };
    const parent = existingAncestor(dir);
    try {
      if (!statSync(parent).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
      accessSync(parent, constants.W_OK | constants.X_OK);
    } catch (err) {
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
          ? `${parent} is a file, not a directory`
          : `${parent} is not writable (${(err as NodeJS.ErrnoException).code})`;
      problems.push({ key: 'selfSigned', message: `cannot keep a self-signed certificate in ${dir}: ${why}` });
    }
    return { problems };
  }
  if (!https.cert || !https.key) return { problems }; // reported by the config checks
  return { problems, pair: checkPair(resolve(baseDir, https.cert), resolve(baseDir, https.key), undefined, problems) };
}

/**
 * The https listener's certificate: cert/key files checked as `validate` checks them (they may
 * have changed since), or the persisted self-signed pair, made on first use. GH_ERR_TLS otherwise.
 */
export async function httpsCertificate(
  baseDir: string,
  h: { cert?: string; key?: string; selfSigned?: { hosts: string[]; dir: string; days: number } },
): Promise<{ cert: string; key: string }> {
  const { problems, pair } = tlsProblems(baseDir, h);
  if (problems.length)
    throw new GatehouseError('GH_ERR_TLS', `server.https.${problems[0].key}: ${problems.map((p) => p.message).join('; ')}`);
  if (pair) return pair;
  const dir = resolve(baseDir, h.selfSigned!.dir);
  try {
    return await persistedCertificate(dir, h.selfSigned!.hosts, h.selfSigned!.days);
  } catch (cause) {
    throw new GatehouseError(
      'GH_ERR_TLS',
      `server.https.selfSigned: cannot make or keep a certificate in ${dir}: ${(cause as Error).message}`,
      { cause },
    );
  }
}
