/** A URL with the credentials of its authority (`user:pass@`) replaced, for messages, logs and /config. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1[redacted]@');
}
