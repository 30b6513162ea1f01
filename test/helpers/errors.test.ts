import t from 'tap';
import { GatehouseError, rawJsonAnswer } from '../../core/errors';
import { expectError, type Answer } from './errors';

/** A stand-in for tap's assertions that records which ones failed. */
function recorder() {
  const failed: string[] = [];
  const check = (ok: boolean, message = '') => {
    if (!ok) failed.push(message);
    return ok;
  };
  return {
    failed,
    equal: (found: unknown, wanted: unknown, m?: string) => check(found === wanted, m),
    ok: (found: unknown, m?: string) => check(!!found, m),
    match: (found: unknown, re: RegExp, m?: string) => check(typeof found === 'string' && re.test(found), m),
    strictSame: (found: unknown, wanted: unknown, m?: string) => check(JSON.stringify(found) === JSON.stringify(wanted), m),
    fail: (m?: string) => check(false, m),
  };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const answer = (e: GatehouseError, over: Partial<Answer> = {}): Answer => ({
  status: e.status,
  headers: JSON_TYPE,
  body: JSON.stringify(e.toJSON()),
  ...over,
});
const notFound = new GatehouseError('GH_ERR_NOT_FOUND');

const cases: { desc: string; res: Answer | string; code: string; status?: number; fails: RegExp | null }[] = [
  { desc: 'a core error as the gateway writes it', res: answer(notFound), code: 'GH_ERR_NOT_FOUND', fails: null },
  { desc: 'the raw text of one on a socket', res: rawJsonAnswer('GH_ERR_BAD_REQUEST', 'no'), code: 'GH_ERR_BAD_REQUEST', fails: null },
  {
    desc: 'a plugin error with its status',
    res: answer(new GatehouseError('GH_ERR_X_Y', 'why', { status: 502 })),
    code: 'GH_ERR_X_Y',
    status: 502,
    fails: null,
  },
  {
    desc: 'a core code with a status of its own',
    res: answer(new GatehouseError('GH_ERR_RELOAD_FAILED', 'bad', { status: 422 })),
    code: 'GH_ERR_RELOAD_FAILED',
    status: 422,
    fails: null,
  },
  { desc: 'another code', res: answer(notFound), code: 'GH_ERR_NO_ROUTE', fails: /GH_ERR_NO_ROUTE: the code/ },
  { desc: 'a status line unlike the body', res: answer(notFound, { status: 200 }), code: 'GH_ERR_NOT_FOUND', fails: /status line/ },
  {
    desc: "a core code with another status than the catalogue's",
    res: answer(new GatehouseError('GH_ERR_NOT_FOUND', 'x', { status: 410 })),
    code: 'GH_ERR_NOT_FOUND',
    fails: /status 404/,
  },
  {
    desc: 'a plugin code without a status',
    res: answer(new GatehouseError('GH_ERR_X_Y', 'w', { status: 502 })),
    code: 'GH_ERR_X_Y',
    fails: /catalogue/,
  },
  {
    desc: 'a text content type',
    res: answer(notFound, { headers: { 'content-type': 'text/plain' } }),
    code: 'GH_ERR_NOT_FOUND',
    fails: /content type/,
  },
  { desc: 'a body that is not JSON', res: answer(notFound, { body: 'Not Found' }), code: 'GH_ERR_NOT_FOUND', fails: /not JSON/ },
  {
    desc: 'extra keys',
    res: answer(notFound, { body: JSON.stringify({ error: { ...notFound.toJSON().error, stack: 'x' } }) }),
    code: 'GH_ERR_NOT_FOUND',
    fails: /code, status and message only/,
  },
  {
    desc: 'an empty message',
    res: answer(notFound, { body: JSON.stringify({ error: { code: 'GH_ERR_NOT_FOUND', status: 404, message: '' } }) }),
    code: 'GH_ERR_NOT_FOUND',
    fails: /a message/,
  },
  { desc: 'no answer in the raw text', res: '', code: 'GH_ERR_NOT_FOUND', fails: /no HTTP answer/ },
];

for (const c of cases)
  t.test(c.desc, async (t) => {
    const r = recorder();
    const body = expectError(r, c.res, c.code, c.status);
    if (c.fails === null) {
      t.same(r.failed, [], 'every check passes');
      t.equal(body.error.code, c.code, 'the parsed body is returned');
    } else t.match(r.failed.join('\n'), c.fails, `fails: ${r.failed.join('; ')}`);
  });
