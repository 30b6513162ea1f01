import type { IncomingHttpHeaders } from 'node:http';
import { ERRORS } from '../../core/errors';
import { parseAnswers } from './raw-http';

/** The JSON body of an error answer, as core/errors.ts writes it. */
export interface ErrorBody {
  error: { code: string; status: number; message: string };
}

/** An answer as the test clients collect it (servers.ts `request`, pacifica.ts `fetchBuffer`, raw-http.ts `exchange`). */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders | Record<string, string>;
  body: string | Buffer;
}

/** The assertions expectError makes; tap's `Test` has them all. */
interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): unknown;
  ok(found: unknown, message: string): unknown;
  match(found: unknown, pattern: RegExp, message: string): unknown;
  strictSame(found: unknown, wanted: unknown, message: string): unknown;
  fail(message: string): unknown;
}

/**
 * Assert that `res` is the gateway's JSON error answer for `code`: `{"error":{code,status,message}}`
 * and nothing else, a JSON content type, a non-empty message, the status line equal to the
 * body's status, and that status equal to `status` when given, else to the code's catalogue
 * entry in core/errors.ts (a plugin's code, not in that catalogue, then needs `status`). `res`
 * may also be the raw text a socket read (the first answer in it is checked). Returns the
 * parsed body, so the caller can match the message.
 */
export function expectError(t: Asserts, res: Answer | string, code: string, status?: number): ErrorBody {
  const answer = typeof res === 'string' ? parseAnswers(res)[0] : res;
  if (!answer) {
    t.fail(`${code}: no HTTP answer in ${JSON.stringify(String(res).slice(0, 200))}`);
    return { error: { code: '', status: 0, message: '' } };
  }
  const text = answer.body.toString();
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    t.fail(`${code}: the body is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    return { error: { code: '', status: 0, message: '' } };
  }
  const want = status ?? (ERRORS as Record<string, { status: number } | undefined>)[code]?.status;
  if (want === undefined) t.fail(`${code} is not in core's catalogue: pass the status it should have`);
  t.match(answer.headers['content-type'], /^application\/json\b/, `${code}: a JSON content type`);
  t.strictSame(Object.keys(body ?? {}), ['error'], `${code}: the body is one "error" object`);
  t.strictSame(Object.keys(body?.error ?? {}).sort(), ['code', 'message', 'status'], `${code}: with code, status and message only`);
  t.equal(body.error?.code, code, `${code}: the code`);
  t.equal(answer.status, body.error?.status, `${code}: the status line is the body's status`);
  if (want !== undefined) t.equal(body.error?.status, want, `${code}: status ${want}`);
  t.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, `${code}: a message`);
  return body;
}
