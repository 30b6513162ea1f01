import { anyCase, FRAMING_HEADERS, HEADER_NAME_PATTERN, HEADER_VALUE_PATTERN, type JsonSchema } from '../../core/plugin-api';

/** Options of the `respond` plugin. */
export interface RespondOptions {
  status: number;
  body: string;
  headers: Record<string, string>;
  json?: unknown;
}

/** Statuses that carry no body (Node drops one silently): a body given with them would be a lie. */
const NO_BODY = [204, 205, 304];

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Answer every request with a fixed response, never touching an upstream.',
  properties: {
    status: {
      type: 'integer',
      minimum: 200,
      maximum: 599,
      default: 200,
      description:
        'HTTP status of the final answer, 200-599 (an informational 1xx cannot end a request). 204, 205 and 304 take no body. Default: 200.',
    },
    body: { type: 'string', default: '', description: 'Response body (text). Default: empty. HEAD gets the headers only.' },
    json: { description: 'A JSON value to send instead of body (sets content-type: application/json).' },
    headers: {
      type: 'object',
      default: {},
      propertyNames: {
        pattern: HEADER_NAME_PATTERN,
        not: { pattern: anyCase(FRAMING_HEADERS) },
        errorMessage: `a header name is a token (letters, digits, !#$%&'*+.^_\`|~-; no spaces or colons), and not one of ${FRAMING_HEADERS.join(', ')} (Node frames the answer)`,
      },
      additionalProperties: {
        type: 'string',
        pattern: HEADER_VALUE_PATTERN,
        errorMessage:
          'a header value may hold tabs, visible ASCII, spaces and Latin-1 letters, but no CR, LF, NUL or other control characters (Node refuses them)',
      },
      description:
        "Response headers: names are tokens (letters, digits, !#$%&'*+.^_`|~-), values have no CR, LF or other control characters. " +
        `Framing and hop-by-hop headers (${FRAMING_HEADERS.join(', ')}) are Node's to set. Default: content-type text/plain; charset=utf-8 for a text body.`,
    },
  },
  if: { required: ['status'], properties: { status: { enum: NO_BODY } } },
  then: {
    properties: { body: { maxLength: 0, errorMessage: `statuses ${NO_BODY.join(', ')} carry no body; Node would drop it` } },
    not: { required: ['json'] },
    errorMessage: `statuses ${NO_BODY.join(', ')} carry no body; remove json`,
  },
};
