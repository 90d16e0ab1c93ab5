/**
 * Zod issues → problems a lab author can act on: at the field's line, named by
 * its path, in plain words ("is required", "unknown field "timelimt" (did you
 * mean "timelimit"?)") rather than zod's generic "Invalid input".
 */
import type { z } from 'zod';
import { problemAt, type FieldPath, type Problem, type YamlSource } from './positions';

type Issue = z.core.$ZodIssue;
/** The part of zod's internal definition we walk to find which keys a place accepts. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  options?: Schema[];
}
type Schema = { _zod: { def: Def } };

/** Validates `data` against `schema`; returns the parsed value or the problems located in `src`. */
export function validate<T>(
  schema: z.ZodType<T>,
  data: unknown,
  src: YamlSource,
): { value?: T; problems: Problem[] } {
  const r = schema.safeParse(data);
  if (r.success) return { value: r.data, problems: [] };
  return { problems: r.error.issues.flatMap((i) => issueProblems(i, [], data, schema as unknown as Schema, src)) };
}

function issueProblems(issue: Issue, prefix: FieldPath, data: unknown, schema: Schema, src: YamlSource): Problem[] {
  const at = [...prefix, ...issue.path];
  const value = valueAt(data, at);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(schema, at);
      return issue.keys.map((k) => {
        const near = closest(k, known);
        const hint = near ? ` (did you mean "${near}"?)` : known.length ? ` (known: ${known.join(', ')})` : '';
        return problemAt(src, [...at, k], `unknown field "${k}"${hint}`);
      });
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined) {
        const opts = ((issue as { options?: unknown[] }).options ?? []).map(String).join(', ');
        const got = valueAt(data, at);
        return [problemAt(src, at, got === undefined ? `is required: one of ${opts}` : `must be one of ${opts} (got ${show(got)})`)];
      }
      // One branch clearly closest: report its issues, they say what to fix.
      const branches = [...issue.errors].sort((a, b) => a.length - b.length);
      if (branches.length && (branches.length === 1 || branches[0].length < branches[1].length))
        return branches[0].flatMap((i) => issueProblems(i, at, data, schema, src));
      return [problemAt(src, at, `does not match any allowed form: ${unionForms(schema, at) || 'see the lab format'}`)];
    }
    case 'invalid_type': {
      if (at.length === 0) return [problemAt(src, at, `expected ${article(issue.expected)} of fields, got ${kindOf(value)}`)];
      if (value === undefined) return [problemAt(src, at, `is required (${article(issue.expected)})`)];
      return [problemAt(src, at, `expected ${article(issue.expected)}, got ${kindOf(value)}`)];
    }
    case 'invalid_value': {
      const vals = issue.values.map((v) => show(v));
      return [problemAt(src, at, `${vals.length === 1 ? `must be ${vals[0]}` : `must be one of ${vals.join(', ')}`} (got ${show(value)})`)];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const n = Number(small ? issue.minimum : issue.maximum);
      const incl = issue.inclusive !== false;
      let msg: string;
      if (issue.origin === 'array') msg = `needs ${small ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
      else if (issue.origin === 'string')
        msg = small && n === 1 ? 'must not be empty' : `must be ${small ? 'at least' : 'at most'} ${n} characters`;
      else msg = `must be ${small ? (incl ? 'at least' : 'greater than') : incl ? 'at most' : 'less than'} ${n} (got ${show(value)})`;
      return [problemAt(src, at, msg)];
    }
    default:
      return [problemAt(src, at, issue.message.replace(/^Invalid (input|string): /, ''))];
  }
}

/** The schemas that apply at `fieldPath` (several below a union), wrappers removed. */
function schemasAt(schema: Schema, fieldPath: FieldPath): Schema[] {
  let current = unwrap(schema);
  for (const seg of fieldPath) {
    current = current.flatMap((s) => {
      const d = s._zod.def;
      if (d.type === 'object' && typeof seg === 'string' && d.shape?.[seg]) return unwrap(d.shape[seg]);
      if (d.type === 'array' && typeof seg === 'number' && d.element) return unwrap(d.element);
      if (d.type === 'record' && d.valueType) return unwrap(d.valueType);
      return [];
    });
  }
  return current;
}

function unwrap(s: Schema): Schema[] {
  const d = s._zod.def;
  if (d.innerType) return unwrap(d.innerType); // optional, default, nullable, readonly, catch...
  if (d.type === 'pipe' && d.in && d.out) return unwrap(d.in._zod.def.type === 'transform' ? d.out : d.in);
  if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
  return [s];
}

function keysAt(schema: Schema, fieldPath: FieldPath): string[] {
  const keys = schemasAt(schema, fieldPath).flatMap((s) => Object.keys(s._zod.def.shape ?? {}));
  return [...new Set(keys)];
}

/** `{variable} | {literal} | {regex}` for a union of objects. */
function unionForms(schema: Schema, fieldPath: FieldPath): string {
  return schemasAt(schema, fieldPath)
    .map((s) => (s._zod.def.shape ? `{${Object.keys(s._zod.def.shape).join(', ')}}` : s._zod.def.type))
    .join(' | ');
}

function valueAt(data: unknown, fieldPath: FieldPath): unknown {
  let v: unknown = data;
  for (const seg of fieldPath) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && !Number.isInteger(v)) return `the number ${v}`;
  return `${typeof v === 'string' ? 'text' : `a ${typeof v}`} ${show(v)}`;
}

function article(expected: string): string {
  const words: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
  };
  return words[expected] ?? expected;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
}

/** The candidate within a small edit distance of `word`, if any: for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (c !== word && d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (`setpu` → `setup`); small strings only. */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}
