import type { JsonSchema } from '../plugin/contract';
import { coreSchema } from './schema';

/**
 * The `default` of each property of an object schema, so that code needing a default reads
 * it from the schema (where it is written once and documented) instead of copying it.
 */
export function defaultsOf(schema: JsonSchema): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(props)) if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  return out;
}

/** The sub-schema of core's config at a path of property names (`['server', 'http']`). */
export function coreSchemaAt(path: readonly string[]): JsonSchema {
  let node: JsonSchema = coreSchema;
  for (const key of path) node = (node.properties as Record<string, JsonSchema>)[key];
  return node;
}
