import type { PresetName } from '../schema';
import { github } from './github';
import { hmac } from './hmac';
import { none } from './none';
import { rockblock } from './rockblock';
import { slack } from './slack';
import { standardWebhooks } from './standard-webhooks';
import { stripe } from './stripe';
import type { PresetSettings, Verifier } from './types';

/** Every preset by name. */
export const PRESET_VERIFIERS: Readonly<Record<PresetName, (settings: PresetSettings) => Verifier>> = Object.freeze({
  rockblock,
  'standard-webhooks': standardWebhooks,
  github,
  stripe,
  slack,
  hmac,
  none,
});

/** Presets that check an HMAC with `verify.secrets`. */
export const HMAC_PRESETS: ReadonlySet<PresetName> = new Set(['standard-webhooks', 'github', 'stripe', 'slack', 'hmac']);
