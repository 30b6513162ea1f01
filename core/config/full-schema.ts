import { builtinPlugins } from '../../plugins';
import type { JsonSchema } from '../plugin/contract';
import { coreSchema } from './schema';

/**
 * The schema published as config.schema.json: core's, with each built-in plugin's
 * options schema in place of the opaque plugin entry, so editors can check both.
 * Custom plugins (paths, packages) stay open: their schema is only known at load.
 */
export function fullSchema(): JsonSchema {
  const schema = structuredClone(coreSchema) as Record<string, any>;
  const entry = {
    description: 'One plugin: `- <plugin-name>: {options}`. Built-ins by name; custom ones by path (./x.ts) or package name.',
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    properties: Object.fromEntries(builtinPlugins.map((p) => [p.name, p.schema])),
    additionalProperties: { type: ['object', 'null'], description: 'A custom plugin by path or package name; its own schema is checked at load.' },
  };
  schema.properties.plugins.items = entry;
  schema.properties.routes.items.properties.plugins.items = entry;
  return schema;
}
