import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../app';
import { tempDir } from '../../helpers/gatehouse-process';

const PEM = `-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n`;

/** Load a config whose one route declares webhook-ingest with `options`; resolves to the problems text ('' when valid). */
async function problems(t: { teardown(fn: () => void): void }, options: Record<string, unknown>): Promise<string> {
  const dir = tempDir(t, 'webhook-validate-');
  writeFileSync(join(dir, 'secret.txt'), 'from-a-file\n');
  writeFileSync(join(dir, 'ed25519.pem'), PEM);
  const file = join(dir, 'gatehouse.json');
  writeFileSync(
    file,
    JSON.stringify({
      upstreams: { paikea: { targets: ['http://127.0.0.1:9'] } },
      routes: [{ match: { path: '/hook' }, plugins: [{ 'webhook-ingest': options }] }],
    }),
  );
  return loadConfig(file, { env: {} }).then(
    () => '',
    (e: Error & { code: string }) => `${e.code}: ${e.message}`,
  );
}
const deliver = { upstream: 'paikea' };

const cases: { desc: string; options: Record<string, unknown>; want?: RegExp }[] = [
  { desc: 'rockblock with the shipped key', options: { preset: 'rockblock', deliver } },
  { desc: 'github with a secret from a file', options: { preset: 'github', verify: { secrets: [{ file: 'secret.txt' }] }, deliver } },
  { desc: 'deliver to a URL', options: { preset: 'none', deliver: { url: 'http://127.0.0.1:9000/base' } } },
  { desc: 'an unknown preset', options: { preset: 'svix', deliver }, want: /\/preset/ },
  { desc: 'an unknown option', options: { preset: 'none', deliver, retries: 3 }, want: /retries/ },
  {
    desc: 'an unknown upstream',
    options: { preset: 'none', deliver: { upstream: 'nope' } },
    want: /deliver\/upstream: unknown upstream "nope" \(declared: paikea\)/,
  },
  { desc: 'both upstream and url', options: { preset: 'none', deliver: { upstream: 'paikea', url: 'http://x' } }, want: /deliver/ },
  {
    desc: 'a secrets file that does not exist',
    options: { preset: 'github', verify: { secrets: [{ file: 'missing.txt' }] }, deliver },
    want: /verify\/secrets\/0: .*missing\.txt cannot be read: ENOENT/,
  },
  {
    desc: 'an HMAC preset without secrets',
    options: { preset: 'stripe', deliver },
    want: /verify\/secrets: preset "stripe" needs at least one secret/,
  },
  {
    desc: 'secrets given to rockblock',
    options: { preset: 'rockblock', verify: { secrets: ['x'] }, deliver },
    want: /verify\/secrets: preset "rockblock" uses no secrets/,
  },
  {
    desc: 'a key that is not RSA',
    options: { preset: 'rockblock', verify: { keys: [{ file: 'ed25519.pem' }] }, deliver },
    want: /verify\/keys\/0: .*not RSA/,
  },
  {
    desc: 'a key file that does not exist',
    options: { preset: 'rockblock', verify: { keys: [{ file: 'rock7.pem' }] }, deliver },
    want: /verify\/keys\/0: .*rock7\.pem cannot be read/,
  },
  {
    desc: 'hmac without its header',
    options: { preset: 'hmac', verify: { secrets: ['s'] }, deliver },
    want: /verify\/header: preset "hmac" needs/,
  },
  {
    desc: 'a malformed allowed CIDR',
    options: { preset: 'rockblock', verify: { allowUnsigned: { cidrs: ['10.0.0.0/33'] } }, deliver },
    want: /allowUnsigned\/cidrs\/0/,
  },
  { desc: 'a malformed IMEI', options: { preset: 'rockblock', verify: { allowUnsigned: { imeis: ['123'] } }, deliver }, want: /imeis\/0/ },
  {
    desc: 'a lease shorter than an attempt',
    options: { preset: 'none', deliver: { ...deliver, timeoutMs: 60000 } },
    want: /leaseMs \(30000\) must be at least timeoutMs \+ 5000 \(65000\)/,
  },
  {
    desc: 'a schedule step that is not a duration',
    options: { preset: 'none', deliver, retry: { schedule: ['5 minutes'] } },
    want: /retry\/schedule\/0/,
  },
  {
    desc: 'a schedule step past what timers hold',
    options: { preset: 'none', deliver, retry: { schedule: ['9999h'] } },
    want: /retry\/schedule\/0: "9999h" is longer/,
  },
  { desc: 'a non-2xx answer', options: { preset: 'none', deliver, answer: { status: 500 } }, want: /answer\/status/ },
];
for (const c of cases) {
  t.test(c.desc, async (t) => {
    const got = await problems(t, c.options);
    if (c.want) {
      t.match(got, /^GH_ERR_CONFIG_INVALID/);
      t.match(got, c.want);
    } else t.equal(got, '', 'valid');
  });
}
