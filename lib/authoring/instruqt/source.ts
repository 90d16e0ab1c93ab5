/**
 * Reading an Instruqt track folder, which is untrusted input: every file is bounded before it
 * is read, symlinks are never followed (a link to /etc/shadow must not end up in a lab), and a
 * broken YAML file is a problem at its file and line, never an exception. Fields are validated
 * one at a time with zod, so one bad value drops that field, not the whole track.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { displayPath, parseYaml, problemAt, problemIn, type FieldPath, type Problem, type YamlSource } from '../../labs/positions';

/** Upper bounds on what the importer reads: far above any real track, far below what hurts. */
export const LIMITS = {
  yaml: 256 * 1024,
  assignment: 1024 * 1024,
  /** Per asset file, and for all of them together (assets are copied, not read). */
  asset: 50 * 1024 * 1024,
  assets: 200 * 1024 * 1024,
  /** Entries looked at in one folder. */
  entries: 2000,
};

export type Mapping = Record<string, unknown>;

export interface Entry {
  name: string;
  abs: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
}

/** A folder's entries by name, not following symlinks; undefined when it is not a readable folder. */
export async function listEntries(dir: string, problems: Problem[]): Promise<Entry[] | undefined> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch {
    return undefined;
  }
  if (names.length > LIMITS.entries) {
    problems.push(problemIn(displayPath(dir), `${names.length} entries: only the first ${LIMITS.entries} (by name) are imported`));
    names = names.slice(0, LIMITS.entries);
  }
  const out: Entry[] = [];
  for (const name of names) {
    const abs = path.join(dir, name);
    const st = await fs.lstat(abs).catch(() => undefined);
    if (!st) continue;
    const kind = st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    out.push({ name, abs, kind, size: st.size });
  }
  return out;
}

const size = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** Why a path is not imported as a file (a symlink, too big), or undefined when it may be read. */
export async function refusal(abs: string, max: number): Promise<string | undefined> {
  const st = await fs.lstat(abs).catch(() => undefined);
  if (!st) return 'not found';
  if (st.isSymbolicLink()) return 'is a symlink: not followed (an imported track brings only its own files)';
  if (!st.isFile()) return 'is not a regular file';
  if (st.size > max) return `is ${size(st.size)}, over the ${size(max)} the importer reads for such a file: not imported`;
  return undefined;
}

/** The text of a file, read only after its size was checked; a problem (line 1) otherwise. */
export async function readBounded(abs: string, max: number, problems: Problem[]): Promise<string | undefined> {
  const file = displayPath(abs);
  const why = await refusal(abs, max);
  if (why) {
    problems.push(problemIn(file, why));
    return undefined;
  }
  const fh = await fs.open(abs, 'r');
  try {
    // Read one byte past the limit: a file that grew since lstat is still caught.
    const buf = Buffer.alloc(max + 1);
    const { bytesRead } = await fh.read(buf, 0, max + 1, 0);
    if (bytesRead > max) {
      problems.push(problemIn(file, `is over the ${size(max)} the importer reads for such a file: not imported`));
      return undefined;
    }
    return buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } finally {
    await fh.close();
  }
}

/** YAML text → its source (for positions) and a mapping of fields, or problems at the broken line. */
export function parseMapping(text: string, file: string, lineOffset: number, problems: Problem[]): { src: YamlSource; data: Mapping } | undefined {
  const { source, problems: syntax } = parseYaml(text, file, lineOffset);
  problems.push(...syntax);
  if (syntax.some((p) => p.severity === 'error')) return undefined;
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push(problemIn(file, `YAML: ${(e as Error).message}`, 'error', lineOffset + 1));
    return undefined;
  }
  if (!isMapping(data)) {
    problems.push(problemIn(file, 'must be a YAML mapping of fields (key: value)', 'error', lineOffset + 1));
    return undefined;
  }
  return { src: source, data };
}

export function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One field of an untrusted mapping, validated: its value, or undefined (absent, or invalid and
 * then reported at its line as not converted).
 */
export function field<T>(src: YamlSource, data: Mapping, at: FieldPath, schema: z.ZodType<T>, problems: Problem[]): T | undefined {
  const key = at[at.length - 1] as string;
  if (data[key] === undefined || data[key] === null) return undefined;
  const r = schema.safeParse(data[key]);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const message = issue.message.replace(/^Invalid (input|string|option): /, '');
  problems.push(problemAt(src, [...at, ...(issue.path as PropertyKey[])], `not converted: ${message}`));
  return undefined;
}

/**
 * How the importer treats a field: converted (by the caller), dropped with a warning saying why,
 * not converted (an error saying why), or ignored here because the caller reports it.
 */
export type FieldRule = { convert: true } | { drop: string } | { error: string } | { ignore: true };

/** Reports every key of `data` that is not converted (by its rule, or unknown) at its line. */
export function reportKeys(src: YamlSource, at: FieldPath, data: Mapping, rules: Record<string, FieldRule>, what: string, problems: Problem[]): void {
  for (const key of Object.keys(data)) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (!rule) problems.push(problemAt(src, [...at, key], `${what} field "${key}" is not one Labforge knows: not converted`));
    else if ('drop' in rule) problems.push(problemAt(src, [...at, key], rule.drop, 'warning'));
    else if ('error' in rule) problems.push(problemAt(src, [...at, key], rule.error));
  }
}
