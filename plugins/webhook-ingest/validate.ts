import type { ConfigProblem, ValidateScope } from '../../core/plugin-api';
import { MAX_DURATION_MS, parseCidr } from '../../core/plugin-api';
import { parseDuration } from './durations';
import { parseFieldRef } from './fields';
import { HMAC_PRESETS } from './presets';
import { standardKey } from './presets/standard-webhooks';
import type { WebhookIngestOptions } from './schema';
import { readSecret, rsaKey } from './secrets';

/** Read each secret (files must exist and be readable); a problem per one that cannot be. */
function checkSecrets(options: Readonly<WebhookIngestOptions>, scope: ValidateScope, problems: ConfigProblem[]): void {
  const { preset, verify } = options;
  verify.secrets.forEach((s, i) => {
    try {
      const text = readSecret(s, scope.configDir);
      if (text === '') problems.push({ path: `/verify/secrets/${i}`, message: 'the secret is empty' });
      else if (preset === 'standard-webhooks' && standardKey(text).length === 0)
        problems.push({ path: `/verify/secrets/${i}`, message: 'a standard-webhooks secret is whsec_ followed by base64' });
    } catch (err) {
      problems.push({ path: `/verify/secrets/${i}`, message: (err as Error).message });
    }
  });
  verify.keys?.forEach((k, i) => {
    try {
      rsaKey(readSecret(k, scope.configDir), typeof k === 'string' ? 'the key' : k.file);
    } catch (err) {
      problems.push({ path: `/verify/keys/${i}`, message: (err as Error).message });
    }
  });
}

/** Options that only some presets read, so that one given to another preset is not silently ignored. */
function checkPresetFit(options: Readonly<WebhookIngestOptions>, problems: ConfigProblem[]): void {
  const { preset, verify } = options;
  const hmacPreset = HMAC_PRESETS.has(preset);
  if (hmacPreset && verify.secrets.length === 0)
    problems.push({ path: '/verify/secrets', message: `preset "${preset}" needs at least one secret to check signatures with` });
  if (!hmacPreset && verify.secrets.length > 0)
    problems.push({ path: '/verify/secrets', message: `preset "${preset}" uses no secrets (${[...HMAC_PRESETS].join(', ')} do)` });
  if (preset !== 'rockblock' && verify.keys !== undefined)
    problems.push({ path: '/verify/keys', message: 'only the rockblock preset uses keys' });
  const { imeis, cidrs } = verify.allowUnsigned;
  if (preset !== 'rockblock' && imeis.length + cidrs.length > 0)
    problems.push({ path: '/verify/allowUnsigned', message: 'only the rockblock preset has an unsigned-post policy' });
  if (preset === 'hmac' && verify.header === undefined)
    problems.push({ path: '/verify/header', message: 'preset "hmac" needs the signature header' });
  if (preset !== 'hmac' && verify.header !== undefined)
    problems.push({ path: '/verify/header', message: 'only the hmac preset takes a header' });
  cidrs.forEach((c, i) => {
    try {
      parseCidr(c);
    } catch (err) {
      problems.push({ path: `/verify/allowUnsigned/cidrs/${i}`, message: (err as Error).message });
    }
  });
}

/** What start would refuse that the schema cannot say: unreadable secrets, an unknown upstream, a lease shorter than an attempt. */
export function validateOptions(options: Readonly<WebhookIngestOptions>, scope: ValidateScope): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  checkPresetFit(options, problems);
  checkSecrets(options, scope, problems);
  const { deliver } = options;
  if (deliver.upstream !== undefined && !scope.upstreams.includes(deliver.upstream)) {
    problems.push({
      path: '/deliver/upstream',
      message: `unknown upstream "${deliver.upstream}" (declared: ${scope.upstreams.join(', ') || 'none'})`,
    });
  }
  if (deliver.url !== undefined && !URL.canParse(deliver.url))
    problems.push({ path: '/deliver/url', message: `found ${JSON.stringify(deliver.url)}, expected an http(s) URL that parses` });
  // An attempt must end well before its lease does, or another process could start the same message (capped: what timers hold).
  const leaseAtLeast = Math.min(deliver.timeoutMs + 5000, MAX_DURATION_MS);
  if (deliver.leaseMs < leaseAtLeast)
    problems.push({
      path: '/deliver/leaseMs',
      message: `leaseMs (${deliver.leaseMs}) must be at least timeoutMs + 5000 (${leaseAtLeast})`,
    });
  options.retry.schedule.forEach((s, i) => {
    if (Number.isNaN(parseDuration(s)))
      problems.push({ path: `/retry/schedule/${i}`, message: `"${s}" is longer than timers hold (24.8 days)` });
  });
  if (options.dedupe.key !== undefined) {
    for (const part of options.dedupe.key.split(',')) {
      const ref = parseFieldRef(part);
      if ('name' in ref && ref.name === '') problems.push({ path: '/dedupe/key', message: `"${part}" names no field` });
    }
  }
  return problems;
}
