import { definePlugin, GatehouseError, type Context } from '../../core/plugin-api';
import { challenge } from './challenge';
import { errors } from './errors';
import { ExceptRules } from './except';
import { ClaimHeaders } from './forward';
import { JwksKeys } from './jwks';
import { readKeyMaterial } from './keys';
import { jwtMetrics } from './metrics';
import { schema, type JwtAuthOptions } from './schema';
import { JWT_CLAIMS } from './state';
import { TokenReader, type Found } from './token';
import { validateOptions } from './validate';
import { Verifier, type KeyMaterial } from './verify';

/** A URL without credentials or query, for logs. */
const shown = (url: URL) => `${url.origin}${url.pathname}`;

/**
 * `jwt-auth`: a route's requests must carry a JWT that verifies (signature, algorithm, claims),
 * or get a 401 with an RFC 6750 challenge. The verified claims go to later plugins under
 * {@link JWT_CLAIMS}, and optionally upstream as headers that the client cannot forge.
 */
export default definePlugin<JwtAuthOptions>({
  name: 'jwt-auth',
  schema,
  errors,
  validate: validateOptions,
  create(options, scope) {
    const metrics = jwtMetrics(scope.metrics);
    const reader = new TokenReader(options.from);
    const except = new ExceptRules(options.except);
    const forward = new ClaimHeaders(options.forwardClaims);
    const { realm } = options;
    let jwks: JwksKeys | undefined;
    if (options.jwksUrl !== undefined) {
      const url = new URL(options.jwksUrl);
      let failing = false;
      // Logged when fetching starts or stops failing, not per request: a dead issuer would flood the log.
      const listener = (ok: boolean, why?: string) => {
        metrics.fetched(ok);
        if (ok === !failing) return;
        failing = !ok;
        if (ok) scope.logger.info({ jwksUrl: shown(url) }, 'JWKS fetched again');
        else scope.logger.warn({ jwksUrl: shown(url), why }, 'JWKS cannot be fetched');
      };
      const settings = { timeoutMs: options.jwksTimeoutMs, cooldownMs: options.jwksCooldownMs, cacheMaxAgeMs: options.jwksCacheMaxAgeMs };
      jwks = new JwksKeys(url, settings, listener);
    }
    let material: KeyMaterial | undefined;
    const verifier = new Verifier(options, () => material!);

    async function jwtAuth(ctx: Context, next: () => Promise<void>): Promise<void> {
      forward.strip(ctx.req.headers);
      if (except.exempts(ctx.method, ctx.path)) {
        metrics.outcome('exempt');
        return next();
      }
      let found: Found;
      try {
        found = reader.read(ctx.req.headers, ctx.query);
      } catch (err) {
        metrics.outcome('ambiguous');
        return void ctx.fail(err, err instanceof GatehouseError ? challenge(realm, err, false) : undefined);
      }
      if (!found) {
        metrics.outcome('missing');
        const err = errors.create('MISSING');
        return void ctx.fail(err, challenge(realm, err, true));
      }
      const verdict = await verifier.verify(found.token);
      if ('error' in verdict) {
        metrics.outcome(verdict.outcome);
        const { error } = verdict;
        return void ctx.fail(error, verdict.outcome === 'jwks_unavailable' ? undefined : challenge(realm, error, false));
      }
      metrics.outcome('valid');
      ctx.set(JWT_CLAIMS, verdict.claims);
      const skipped = forward.set(ctx.req.headers, verdict.claims);
      if (skipped.length > 0) ctx.log.warn({ plugin: 'jwt-auth', claims: skipped }, 'claims with control characters not forwarded');
      return next();
    }

    return {
      handle: jwtAuth,
      async start() {
        // Keys are files: read at start, so a changed file takes effect on reload.
        material = readKeyMaterial(options, scope.configDir, jwks);
        await jwks?.prime();
      },
    };
  },
});
