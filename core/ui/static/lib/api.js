// Calls from the page to /ui/api: same origin, the session cookie, and the CSRF header on actions.

let csrf = '';

/** The session's CSRF token, read once after the page loads. Resolves false without a session. */
export async function loadSession() {
  const res = await fetch('/ui/api/session', { credentials: 'same-origin' });
  if (res.status === 401) return false;
  if (!res.ok) throw new Error(`session: HTTP ${res.status}`);
  csrf = (await res.json()).csrf;
  return true;
}

/** A state-changing call (replay, purge, cancel, logout); resolves to the JSON answer or throws its message. */
export async function act(method, url) {
  const res = await fetch(url, { method, credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* an empty or non-JSON answer: the status says enough */
  }
  if (res.status === 401) location.assign('/ui/login');
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/** A path segment for an instance or id (`webhook-ingest#1` → `webhook-ingest%231`). */
export function seg(s) {
  return encodeURIComponent(s);
}
