import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';

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
