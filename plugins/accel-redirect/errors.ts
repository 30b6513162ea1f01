import { defineErrors } from '../../core/plugin-api';

/** accel-redirect's errors, `GH_ERR_ACCEL_REDIRECT_<WHAT>`. */
export const errors = defineErrors('accel-redirect', {
  INVALID: {
    status: 502,
    message: 'The upstream asked for an internal redirect that cannot be served',
    fix: "The upstream's X-Accel-Redirect named a path no `locations` entry maps, a relative path, or one with dot segments. Add a location for it or fix the upstream.",
  },
});
