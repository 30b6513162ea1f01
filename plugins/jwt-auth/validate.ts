import type { ConfigProblem, ValidateScope } from '../../core/plugin-api';
import { isHmac, type Algorithm } from './algorithms';
import { keysOf, publicKeySources, readSource, secretBytes, whereOf } from './keys';
import type { JwtAuthOptions } from './schema';

const KEY_SOURCES = ['secret', 'publicKey', 'jwksUrl'] as const;

/** A JSON pointer segment (RFC 6901). */
const seg = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Exactly one key source, and algorithms it can verify: HMAC with a secret only, the rest with public keys only. */
function checkKeySource(options: Readonly<JwtAuthOptions>, problems: ConfigProblem[]): void {
  const given = KEY_SOURCES.filter((k) => options[k] !== undefined);
  if (given.length === 0)
    problems.push({
      path: '',
      message: 'no key to verify tokens with: give secret (HS256/384/512), publicKey or jwksUrl (RS, PS, ES, EdDSA)',
    });
  if (given.length > 1)
    problems.push({ path: `/${given[1]}`, message: `give exactly one of secret, publicKey, jwksUrl; found ${given.join(' and ')}` });
  const publicKeys = options.publicKey !== undefined || options.jwksUrl !== undefined;
  options.algorithms.forEach((alg, i) => {
    if (isHmac(alg) && publicKeys)
      problems.push({
        path: `/algorithms/${i}`,
        message: `${alg} is verified with a shared secret, not with a public key: accepting it beside publicKey or jwksUrl would let anyone sign tokens with the public key as the HMAC secret (algorithm confusion). Declare a separate jwt-auth with a secret for HMAC tokens`,
      });
    if (!isHmac(alg) && options.secret !== undefined)
      problems.push({
        path: `/algorithms/${i}`,
        message: `${alg} needs publicKey or jwksUrl; a secret verifies only HS256, HS384 and HS512`,
      });
  });
}

/** The secret and the PEM keys, read and parsed as start will; each algorithm needs a key that verifies it. */
function checkKeys(options: Readonly<JwtAuthOptions>, scope: ValidateScope, problems: ConfigProblem[]): void {
  if (options.secret !== undefined) {
    try {
      const where = whereOf(options.secret, 'secret', scope.configDir);
      secretBytes(readSource(options.secret, scope.configDir), options.secretEncoding, where);
    } catch (err) {
      problems.push({ path: '/secret', message: (err as Error).message });
    }
  }
  if (options.publicKey === undefined || options.algorithms.every(isHmac)) return;
  const verified = new Set<Algorithm>();
  let unreadable = false;
  for (const s of publicKeySources(options)) {
    try {
      for (const k of keysOf(s.source, s.option, options, scope.configDir)) for (const a of k.algorithms) verified.add(a);
    } catch (err) {
      unreadable = true;
      problems.push({ path: s.pointer, message: (err as Error).message });
    }
  }
  if (unreadable) return;
  options.algorithms.forEach((alg, i) => {
    if (!isHmac(alg) && !verified.has(alg)) problems.push({ path: `/algorithms/${i}`, message: `no publicKey verifies ${alg}` });
  });
}

/** Where the token is read: somewhere, and not in a header that forwardClaims overwrites. */
function checkSources(options: Readonly<JwtAuthOptions>, problems: ConfigProblem[]): void {
  const { from } = options;
  const header = from.header?.toLowerCase();
  if (header === 'authorization')
    problems.push({ path: '/from/header', message: 'the Authorization header is read by from.authorization' });
  if (header === 'cookie') problems.push({ path: '/from/header', message: 'cookies are read by from.cookie' });
  if (from.authorization === 'ignore' && from.header === undefined && from.cookie === undefined && from.query === undefined)
    problems.push({ path: '/from', message: 'the token is read nowhere: authorization is ignore and no header, cookie or query is given' });
  const seen = new Map<string, [claim: string, header: string]>();
  for (const [claim, name] of Object.entries(options.forwardClaims)) {
    const norm = name.toLowerCase().replace(/_/g, '-');
    const other = seen.get(norm);
    if (other !== undefined)
      problems.push({
        path: `/forwardClaims/${seg(claim)}`,
        message: `${name} is the header ${other[1]} already carrying the claim "${other[0]}" (names are compared ignoring case, _ as -)`,
      });
    else seen.set(norm, [claim, name]);
    if (header !== undefined && norm === header.replace(/_/g, '-'))
      problems.push({
        path: `/forwardClaims/${seg(claim)}`,
        message: `${name} is where from.header reads the token; forwarded-claim headers are removed from requests`,
      });
  }
}

/** What start would refuse that the schema cannot say: key sources, unreadable keys, confusable algorithms, rules. */
export function validateOptions(options: Readonly<JwtAuthOptions>, scope: ValidateScope): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  checkKeySource(options, problems);
  checkKeys(options, scope, problems);
  checkSources(options, problems);
  if (options.jwksUrl !== undefined && URL.canParse(options.jwksUrl)) {
    const url = new URL(options.jwksUrl);
    if (url.username !== '' || url.password !== '')
      problems.push({ path: '/jwksUrl', message: 'a URL with credentials (user:password@) cannot be fetched; a key set is public' });
  }
  options.except.forEach((rule, i) => {
    const tests = (['path', 'pathExact', 'pathRegex'] as const).filter((k) => rule[k] !== undefined);
    if (tests.length !== 1)
      problems.push({
        path: `/except/${i}`,
        message: `a rule takes exactly one of path, pathExact, pathRegex${tests.length ? `; found ${tests.join(' and ')}` : ''}`,
      });
  });
  return problems;
}
