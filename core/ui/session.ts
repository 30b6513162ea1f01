import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The dashboard's session cookie. */
export const SESSION_COOKIE = 'gatehouse_ui';
/** A session lasts this long from login (no sliding renewal: the token is asked again each day). */
export const SESSION_TTL_MS = 12 * 3600_000;
/** Sessions kept at most; the oldest goes first beyond (each login makes one). */
const MAX_SESSIONS = 1000;

interface Session {
  readonly csrf: string;
  readonly expiresAt: number;
}

/** Constant-time equality of two strings of any length (hashed first, so the length is not told either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The value of one cookie in a Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Whether the request came over TLS (the admin listener is plain HTTP today; behind TLS the cookie is Secure). */
export function isTls(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/**
 * Dashboard sessions: a random id in the cookie, mapped here to its CSRF token and expiry.
 * The admin token itself never leaves the login request. Sessions live in memory, so a
 * restart logs everyone out, and they are per process.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** A new session; returns its id (for the cookie) and CSRF token (for the page). */
  create(): { id: string; csrf: string } {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf, expiresAt: this.clock() + SESSION_TTL_MS });
    return { id, csrf };
  }

  /** The live session of a request's cookie, if any. */
  of(req: IncomingMessage): { id: string; csrf: string } | undefined {
    const id = cookieOf(req.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { id, csrf: s.csrf };
  }

  /** Whether a request carries its session's CSRF token in `X-CSRF-Token` (compared in constant time). */
  csrfMatches(req: IncomingMessage, session: { csrf: string }): boolean {
    const sent = req.headers['x-csrf-token'];
    return typeof sent === 'string' && safeEqual(sent, session.csrf);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** The Set-Cookie value for a session id ('' clears it). */
  cookie(id: string, secure: boolean): string {
    const age = id ? Math.floor(SESSION_TTL_MS / 1000) : 0;
    return `${SESSION_COOKIE}=${id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${age}${secure ? '; Secure' : ''}`;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
