import type { JsonSchema } from '../../core/plugin-api';

/** Options of the `respond` plugin. */
export interface RespondOptions {
  status: number;
  body: string;
  headers: Record<string, string>;
  json?: unknown;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Answer every request with a fixed response, never touching an upstream.',
  properties: {
    status: { type: 'integer', minimum: 100, maximum: 599, default: 200, description: 'HTTP status. Default: 200.' },
    body: { type: 'string', default: '', description: 'Response body (text). Default: empty. HEAD gets the headers only.' },
    json: { description: 'A JSON value to send instead of body (sets content-type: application/json).' },
    headers: {
      type: 'object', default: {}, additionalProperties: { type: 'string' },
      description: 'Response headers. Default: content-type text/plain; charset=utf-8 for a text body.',
    },
  },
};
