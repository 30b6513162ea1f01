import type { PresetSettings } from '../../../plugins/webhook-ingest/presets/types';
import { unsignedPolicy } from '../../../plugins/webhook-ingest/secrets';

/** Preset settings as the plugin builds them, with what a case changes. */
export function settings(over: Partial<PresetSettings> & { imeis?: string[]; cidrs?: string[] } = {}): PresetSettings {
  const { imeis = [], cidrs = [], ...rest } = over;
  return {
    required: true,
    secrets: [],
    keys: [],
    toleranceSec: 300,
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: '',
    allowUnsigned: unsignedPolicy({ imeis, cidrs }),
    ...rest,
  };
}
