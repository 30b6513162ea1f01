import { defineErrors } from '../../core/plugin-api';

/** jwt-auth's errors, `GH_ERR_JWT_AUTH_<WHAT>`. */
export const errors = defineErrors('jwt-auth', {
  MISSING: {
    status: 401,
    message: 'No access token was sent',
    fix: 'The request carried no token where the route reads it (by default `Authorization: Bearer <token>` or a bare token; see the `from` option). The client must sign in and send its token; public paths go in `except`.',
  },
  INVALID: {
    status: 401,
    message: 'The access token is not valid',
    fix: 'The token is malformed, signed with an algorithm not in `algorithms` or with another key, expired (beyond `leeway`), not valid yet, or its audience, issuer or required claims do not match. The message says which; the client should get a new token. When every token fails, check the key and the claims options against the issuer.',
  },
  AMBIGUOUS: {
    status: 400,
    message: 'The request carries more than one access token',
    fix: 'Different tokens came in two of the places `from` reads (say the Authorization header and a cookie), or a query parameter was repeated; RFC 6750 §2 allows one. The client must send one token.',
  },
  JWKS_UNAVAILABLE: {
    status: 503,
    message: 'The keys to verify the token with cannot be fetched',
    fix: 'The `jwksUrl` did not answer 200 with a key set within `jwksTimeoutMs`, and no key fetched before fits the token. Check that the identity provider is up and reachable from gatehouse; `gatehouse_jwt_auth_jwks_fetches_total{outcome="error"}` counts the failures.',
  },
  KEY_UNREADABLE: {
    status: 500,
    message: 'A configured secret or public key cannot be read',
    fix: 'A `secret` or `publicKey` file could not be read at start, or no longer holds a PEM public key of the configured kind (it changed after validation). Check the path (relative to the config file), its permissions and contents.',
  },
});
