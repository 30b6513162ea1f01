import { defineErrors } from '../../core/plugin-api';

/** webhook-ingest's errors, `GH_ERR_WEBHOOK_INGEST_<WHAT>`. */
export const errors = defineErrors('webhook-ingest', {
  UNVERIFIED: {
    status: 401,
    message: 'The webhook could not be verified',
    fix: 'The signature (or RockBLOCK JWT) is missing, stale or does not match any configured secret or key. Check the secret or key the sender signs with against `verify.secrets` / `verify.keys`, and the clocks for timestamped presets.',
  },
  INVALID: {
    status: 400,
    message: 'The webhook body is empty or cannot be parsed',
    fix: 'The body was empty, not the form or JSON the preset expects, or lacked a field the dedupe key or orderBy needs. Check what the sender posts and the Content-Type it sends.',
  },
  MESSAGE_NOT_FOUND: {
    status: 404,
    message: 'No such message',
    fix: 'The admin API was asked for a message id the queue does not hold (never stored, or delivered longer ago than `dedupe.windowMs`). List messages to find the id.',
  },
  SECRET_UNREADABLE: {
    status: 500,
    message: 'A configured secret or key cannot be read',
    fix: 'A `verify.secrets` or `verify.keys` file could not be read at start, or a key is not an RSA public key in PEM. Check the path (relative to the config file), its permissions and contents.',
  },
});
