import type { JsonSchema, PluginDefinition } from '../plugin/contract';
import { WHOLE_PLACEHOLDER } from './interpolate';
import { coreSchema } from './schema';

const PLACEHOLDER = {
  type: 'string',
  pattern: WHOLE_PLACEHOLDER,
  description: 'An environment placeholder, replaced (and converted) when the config is loaded.',
};

/**
 * Let a number or boolean also be written as one `${VAR}` placeholder, as the loader
 * accepts (`port: ${PORT:-8080}` becomes a number after interpolation), so that editors
 * do not flag it. Description and default stay on top, where editors show them.
 */
function allowPlaceholders(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(allowPlaceholders);
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(n)) if (k !== 'default' && k !== 'examples' && k !== 'enum' && k !== 'const') allowPlaceholders(v);
  if (n.type !== 'integer' && n.type !== 'number' && n.type !== 'boolean') return;
  const { description, default: dflt, ...rest } = n;
  for (const k of Object.keys(n)) delete n[k];
  if (description !== undefined) n.description = description;
  if (dflt !== undefined) n.default = dflt;
  n.anyOf = [rest, PLACEHOLDER];
}

/**
 * The schema published as config.schema.json: core's, with each built-in plugin's
 * options schema in place of the opaque plugin entry, so editors can check both, and
 * `${VAR}` placeholders accepted where the loader converts them to numbers or booleans.
 * Custom plugins (paths, packages) stay open: their schema is only known at load.
 */
export function fullSchema(plugins: readonly PluginDefinition[]): JsonSchema {
  const schema = structuredClone(coreSchema) as Record<string, any>;
  const entry = {
    description: 'One plugin: `- <plugin-name>: {options}`. Built-ins by name; custom ones by path (./x.ts) or package name.',
    type: 'object',
    minProperties: 1,
    maxProperties: 2,
    properties: {
      id: (schema.properties.plugins.items as Record<string, any>).properties.id,
      ...Object.fromEntries(plugins.map((p) => [p.name, p.schema])),
    },
    // One plugin and optionally its id (the loader says the same in words); the id alone is none.
    if: { minProperties: 2 },
    then: { required: ['id'] },
    not: { required: ['id'], maxProperties: 1 },
    additionalProperties: {
      type: ['object', 'null'],
      description: 'A custom plugin by path or package name; its own schema is checked at load.',
    },
  };
  schema.properties.plugins.items = entry;
  schema.properties.routes.items.properties.plugins.items = entry;
  allowPlaceholders(schema);
  return schema;
}
