/**
 * JSON Schema (as the OpenAPI document holds it) as one line of TypeScript-like text for the /api
 * reference: `{id: string, error?: string, hosts: Host[]}`. References stay names (each named
 * schema is listed once on the page); patterns and bounds are left to the JSON document.
 */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
}

export const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);
/** Whether the schema reads as `a | b` at its top, so `[]` after it needs parentheses. */
const isUnion = (s: JsonSchema | undefined) =>
  !!s && !s.$ref && ((s.enum?.length ?? 0) > 1 || !!(s.anyOf ?? s.oneOf) || (Array.isArray(s.type) && s.type.length > 1));

export function schemaText(s: JsonSchema | undefined): string {
  if (!s || Object.keys(s).length === 0) return 'any';
  if (s.$ref) return refName(s.$ref);
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map(schemaText).join(' | ');
  if (Array.isArray(s.type)) return s.type.map((t) => schemaText({ ...s, type: t })).join(' | ');
  switch (s.type) {
    case 'array':
      return isUnion(s.items) ? `(${schemaText(s.items)})[]` : `${schemaText(s.items)}[]`;
    case 'object': {
      const fields = Object.entries(s.properties ?? {}).map(([k, v]) => `${k}${s.required?.includes(k) ? '' : '?'}: ${schemaText(v)}`);
      if (typeof s.additionalProperties === 'object') fields.push(`[key: string]: ${schemaText(s.additionalProperties)}`);
      return `{${fields.join(', ')}}`;
    }
    case 'string':
      return s.format ? `string (${s.format})` : 'string';
    default:
      return s.type ?? 'any';
  }
}
