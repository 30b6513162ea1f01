import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors as jose,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type LocalJWKSet,
  type RemoteJWKSet,
} from 'jose';
import { errors } from './errors';

/** Settings of a remote key set, from the jwks* options. */
export interface JwksSettings {
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly cacheMaxAgeMs: number;
}

/** Told of every fetch of the key set: `why` says what failed. */
export type FetchListener = (ok: boolean, why?: string) => void;

/** Whether a parsed body is a key set jose can use: `{ keys: [object, …] }`. */
function isKeySet(v: unknown): v is JSONWebKeySet {
  const keys = (v as { keys?: unknown } | null)?.keys;
  return Array.isArray(keys) && keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k));
}

/**
 * The keys of a JWKS URL: jose's remote key set (cached for cacheMaxAgeMs, fetched again for an
 * unknown kid at most once per cooldownMs), plus what jose leaves out. The last good keys keep
 * serving while the URL fails (jose would drop them once stale), and then it is asked again at
 * most once per cooldownMs, so an identity provider that hangs does not make every request wait
 * jwksTimeoutMs. With no key to use, verification fails with JWKS_UNAVAILABLE (503), not 401:
 * the token may well be good.
 */
export class JwksKeys {
  private readonly remote: RemoteJWKSet;
  /** The last good keys, while fetches fail; dropped at the next good fetch. */
  private stale?: LocalJWKSet;
  private failedAt = 0;
  /** Failed fetches so far: tells a failure of the fetch from one of the token. */
  private failures = 0;

  constructor(
    url: URL,
    private readonly settings: JwksSettings,
    private readonly listener: FetchListener,
  ) {
    this.remote = createRemoteJWKSet(url, {
      timeoutDuration: settings.timeoutMs,
      cooldownDuration: settings.cooldownMs,
      cacheMaxAge: settings.cacheMaxAgeMs,
      [customFetch]: (href, init) => this.fetch(href, init),
    });
  }

  /** Fetch the key set now (at start), so the first requests do not wait for it. Never throws. */
  async prime(): Promise<void> {
    try {
      await this.remote.reload();
    } catch {
      // Counted and logged by fetch(); requests will try again.
    }
  }

  /** The key for a token's protected header: what jose's jwtVerify takes as its key argument. */
  readonly key = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    if (this.stale && Date.now() - this.failedAt < this.settings.cooldownMs) return this.fromStale(header, token);
    const failures = this.failures;
    try {
      return await this.remote(header, token);
    } catch (err) {
      // Errors of the token (no key of its kid, an unsupported key) are the caller's to answer.
      if (this.failures === failures) throw err;
      const cached = this.stale ?? this.lastKeys();
      if (!cached) throw errors.create('JWKS_UNAVAILABLE', 'The key set cannot be fetched and none was fetched before');
      this.stale = cached;
      return this.fromStale(header, token);
    }
  };

  private lastKeys(): LocalJWKSet | undefined {
    const set = this.remote.jwks();
    return set ? createLocalJWKSet(set) : undefined;
  }

  private async fromStale(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    try {
      return await this.stale!(header, token);
    } catch (err) {
      if (err instanceof jose.JWKSNoMatchingKey)
        throw errors.create('JWKS_UNAVAILABLE', 'No key fetched before matches the token, and the key set cannot be fetched now');
      throw err;
    }
  }

  /** One fetch, read and checked here so that every failure (status, body) is counted as one. */
  private async fetch(href: string, init: RequestInit): Promise<Response> {
    let why: string;
    try {
      const res = await fetch(href, init);
      const text = await res.text();
      if (res.status !== 200) why = `it answered ${res.status}`;
      else {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (isKeySet(body)) {
          this.stale = undefined;
          this.listener(true);
          return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
        }
        why = 'its body is not a JSON Web Key Set ({"keys": [...]})';
      }
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      why = e.name === 'TimeoutError' ? `no answer within ${this.settings.timeoutMs} ms` : (e.cause?.code ?? e.message);
    }
    this.failures++;
    this.failedAt = Date.now();
    this.listener(false, why);
    throw new jose.JOSEError(`The JSON Web Key Set cannot be fetched: ${why}`);
  }
}
