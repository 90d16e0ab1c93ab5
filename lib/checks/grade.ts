/**
 * Declarative answer grading: a challenge's `grade:` names a YAML file the learner writes in a
 * host (`/root/answers.yaml`) and the expected value of each field (a session variable, a
 * literal or a regex). Messages point at the file, line and field, and say what was expected
 * without ever revealing a variable's value.
 */
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document } from 'yaml';
import { formatBytes, isFileRefused, TOOLBOX_BIN, type Environment, type EnvironmentDriver } from '../environments/driver';
import type { Grade } from '../labs/schema';

export interface GradeProblem {
  /** The field's name; '' for a problem with the whole file. */
  field: string;
  line?: number;
  message: string;
}

export interface GradeResult {
  passed: boolean;
  /** Learner-facing: every problem, one per line, or a short "all correct". */
  message: string;
  problems: GradeProblem[];
}

/** Answer files are a few lines; anything bigger is a mistake (or a binary) and not worth parsing. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/**
 * Shape limits for an answer file (a flat field: value mapping). The top mapping is level 1; deeper
 * levels and more keys are refused with a message before anything is compared, and aliases are
 * never expanded beyond yaml's maxAliasCount (a "billion laughs" file is refused in milliseconds).
 */
export const MAX_ANSWER_DEPTH = 5;
export const MAX_ANSWER_KEYS = 200;
export const MAX_ANSWER_ALIASES = 100;
/**
 * A cheap bound checked on the text before parsing: yaml composes nodes recursively, and a 64 KiB
 * file of "- - - …" or "[[[…" (tens of thousands of levels) exhausts its stack or the process's
 * memory. Columns of indentation and sequence/key indicators at a line's start, and unclosed
 * brackets anywhere (quotes are not tracked: an unbalanced bracket in a quoted value counts).
 */
const MAX_LINE_PREFIX = 80;
const MAX_OPEN_BRACKETS = 32;
/** Also before parsing: "key: " indicators (a colon before a blank), each a key at most; quoted colons count too. */
const MAX_ROUGH_KEYS = 4 * MAX_ANSWER_KEYS;
const SHOWN_VALUE_CHARS = 80;

type Field = Grade['fields'][number];

export function gradeAnswers(grade: Grade, fileText: string, vars: Record<string, string>): GradeResult {
  const file = path.posix.basename(grade.file);
  const whole = (message: string, line?: number): GradeResult => fail([{ field: '', line, message }]);

  const tooDeep = (line?: number) =>
    whole(`${file}${line ? ` line ${line}` : ''}: nested more than ${MAX_ANSWER_DEPTH} levels deep; it should hold only field: value lines`, line);
  const tooMany = () =>
    whole(`${file} has more than ${MAX_ANSWER_KEYS} keys; it should hold only field: value lines (this challenge asks for ${grade.fields.length})`);
  const rough = roughShape(fileText);
  if (rough.tooDeepAt) return tooDeep(rough.tooDeepAt);
  if (rough.keys > MAX_ROUGH_KEYS) return tooMany();

  const lineCounter = new LineCounter();
  // failsafe: every scalar stays a string, so `port: 08` or `answer: yes` are read as typed.
  const doc = parseDocument(fileText, { lineCounter, schema: 'failsafe', prettyErrors: true });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const line = err.linePos?.[0]?.line;
    return whole(`${file}${line ? ` line ${line}` : ''}: ${shortReason(err.message)}`, line);
  }
  const shape = measure(doc.contents);
  if (shape.tooDeep) return tooDeep(lineOf(lineCounter, shape.tooDeep));
  if (shape.keys > MAX_ANSWER_KEYS) return tooMany();
  if (shape.firstAlias && aliasesExplode(doc)) {
    const line = lineOf(lineCounter, shape.firstAlias);
    return whole(
      `${file}${line ? ` line ${line}` : ''}: its aliases (*name) expand to too many values (more than ${MAX_ANSWER_ALIASES}); write each answer out in full`,
      line,
    );
  }
  if (doc.contents === null || (isScalar(doc.contents) && String(doc.contents.value).trim() === ''))
    return whole(`${file} is empty; it must be a YAML mapping of field: value`);
  if (!isMap(doc.contents)) return whole(`${file} must be a YAML mapping of field: value`);

  const pairs = doc.contents.items.map((p) => ({
    key: isScalar(p.key) ? String(p.key.value) : String(p.key),
    line: lineOf(lineCounter, p.key),
    // `field: *anchor` grades what the anchor holds (never expanded further: a node, not a copy).
    value: isAlias(p.value) ? p.value.resolve(doc) : p.value,
  }));

  const problems: GradeProblem[] = [];
  for (const field of grade.fields) {
    const pair = pairs.find((p) => p.key === field.name);
    if (!pair) {
      const near = pairs.find((p) => p.key.trim().toLowerCase() === field.name.toLowerCase());
      const hint = near ? ` (line ${near.line} has "${near.key}": names must match exactly)` : '';
      problems.push({ field: field.name, message: `${file}: "${field.name}" is missing${hint}` });
      continue;
    }
    const at = pair.line ? `${file} line ${pair.line}` : file;
    const add = (message: string) => problems.push({ field: field.name, line: pair.line, message: `${at}: ${message}` });
    if (isSeq(pair.value)) add(`"${field.name}" must be a single value, not a list`);
    else if (isMap(pair.value)) add(`"${field.name}" must be a single value, not a mapping`);
    else {
      const actual = scalarText(pair.value as Scalar | null);
      if (actual === '') add(`"${field.name}" is empty`);
      else {
        const verdict = compare(field, actual, vars);
        if (verdict) add(verdict);
      }
    }
  }
  if (problems.length) return fail(problems);
  const n = grade.fields.length;
  return { passed: true, message: `${file}: ${n === 1 ? 'the answer is' : `all ${n} answers are`} correct`, problems: [] };
}

/** Reads the answer file from its host through the driver, then grades it. */
export async function gradeFromHost(driver: EnvironmentDriver, env: Environment, grade: Grade, vars: Record<string, string>): Promise<GradeResult> {
  const tooBig = (size: number) =>
    fail([{ field: '', message: `${grade.file} in ${grade.host} is too big (${formatBytes(size)}); it should hold only field: value lines` }]);
  let buf: Buffer;
  try {
    // Refused by the driver before it is read when it is not a regular file or over the limit.
    buf = await driver.readFile(env, grade.host, grade.file, { maxBytes: MAX_ANSWER_BYTES });
  } catch (e) {
    if (isFileRefused(e)) {
      if (e.reason === 'too_big') return tooBig(e.details.size ?? MAX_ANSWER_BYTES + 1);
      return fail([{ field: '', message: `${grade.file} in ${grade.host} is ${e.details.what ?? 'not a regular file'}; it must be a file` }]);
    }
    return fail([{ field: '', message: await whyUnreadable(driver, env, grade, e as Error) }]);
  }
  if (buf.length > MAX_ANSWER_BYTES) return tooBig(buf.length);
  return gradeAnswers(grade, buf.toString('utf8'), vars);
}

/** Tells "not there" from "there but unreadable" by asking the host, since drivers word errors differently. */
async function whyUnreadable(driver: EnvironmentDriver, env: Environment, grade: Grade, err: Error): Promise<string> {
  try {
    // The toolbox's sh by its path: this exec has the platform's capabilities, and a host `sh`
    // earlier on PATH would be the learner's.
    const r = await driver.exec(
      env,
      grade.host,
      [`${TOOLBOX_BIN}/sh`, '-c', 'if [ -d "$1" ]; then exit 3; elif [ -e "$1" ]; then exit 0; else exit 2; fi', 'sh', grade.file],
      {
        user: 'root',
        timeoutMs: 10_000,
      },
    );
    if (r.exitCode === 2) return `${grade.file} not found in ${grade.host}`;
    if (r.exitCode === 3) return `${grade.file} in ${grade.host} is a directory; it must be a file`;
  } catch {
    // The host itself is unreachable: fall through to the driver's own reason.
  }
  return `could not read ${grade.file} in ${grade.host}: ${err.message.split('\n')[0]}`;
}

/**
 * Linear, no parsing: the first line (1-based) past the rough nesting bound (MAX_LINE_PREFIX,
 * MAX_OPEN_BRACKETS), and how many "key: " indicators the text has.
 */
function roughShape(text: string): { tooDeepAt?: number; keys: number } {
  let line = 1;
  let atStart = true;
  let prefix = 0;
  let open = 0;
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 /* : */) {
      const next = text.charCodeAt(i + 1);
      if (Number.isNaN(next) || next === 32 || next === 9 || next === 10 || next === 13) keys++;
    }
    if (c === 10 /* \n */) {
      line++;
      atStart = true;
      prefix = 0;
      continue;
    }
    if (atStart) {
      // spaces, tabs, and "-" or "?" indicators (each one more level when followed by a blank)
      if (c === 32 || c === 9 || ((c === 45 || c === 63) && (text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 9))) {
        if (++prefix > MAX_LINE_PREFIX) return { tooDeepAt: line, keys };
        continue;
      }
      atStart = false;
    }
    if (c === 91 || c === 123 /* [ { */) {
      if (++open > MAX_OPEN_BRACKETS) return { tooDeepAt: line, keys };
    } else if ((c === 93 || c === 125) /* ] } */ && open > 0) open--;
  }
  return { keys };
}

interface Shape {
  /** The first node deeper than MAX_ANSWER_DEPTH. */
  tooDeep?: unknown;
  keys: number;
  firstAlias?: unknown;
}

/** Depth, keys and the first alias of a parsed document, stopping at the first node too deep. */
function measure(root: unknown): Shape {
  const shape: Shape = { keys: 0 };
  const walk = (node: unknown, level: number): void => {
    if (shape.tooDeep || shape.keys > MAX_ANSWER_KEYS) return;
    if (isAlias(node)) shape.firstAlias ??= node;
    if (!isMap(node) && !isSeq(node)) return;
    if (level > MAX_ANSWER_DEPTH) {
      shape.tooDeep = node;
      return;
    }
    if (isMap(node)) shape.keys += node.items.length;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        walk(item.key, level + 1);
        walk(item.value, level + 1);
      } else walk(item, level + 1);
    }
  };
  walk(root, 1);
  return shape;
}

/** yaml's own guard against alias expansion ("billion laughs"): toJS stops at maxAliasCount. */
function aliasesExplode(doc: Document): boolean {
  try {
    doc.toJS({ maxAliasCount: MAX_ANSWER_ALIASES });
    return false;
  } catch (e) {
    if (e instanceof ReferenceError) return true;
    throw e;
  }
}

/** undefined when right; else the message tail after `file line N: `. */
function compare(field: Field, actual: string, vars: Record<string, string>): string | undefined {
  const shown = `"${field.name}" is ${showValue(actual)}`;
  const candidates = [actual, unquote(actual)];
  const exp = field.expected;
  if ('regex' in exp) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${exp.regex})$`);
    } catch {
      return `"${field.name}" cannot be checked: the lab's pattern for it is invalid; tell the lab author`;
    }
    if (candidates.some((c) => re.test(c))) return undefined;
    return `${shown}, ${field.describe ? `expected ${field.describe}` : 'which is not in the expected form'}`;
  }
  let expected: string;
  if ('variable' in exp) {
    if (vars[exp.variable] === undefined)
      return `"${field.name}" cannot be checked right now (session variable ${exp.variable} is not set); tell your instructor`;
    expected = vars[exp.variable].trim();
  } else expected = exp.literal.trim();
  if (candidates.includes(expected)) return undefined;
  if (field.describe) return `${shown}, expected ${field.describe}`;
  // A literal is in the lab's source anyway; a variable's value is never shown.
  return 'literal' in exp ? `${shown}, expected ${showValue(expected)}` : `${shown}, which is not the expected value`;
}

/** The scalar as the learner typed it, trimmed; `~` and `null` count as empty. */
function scalarText(node: Scalar | null): string {
  if (!node) return '';
  const text = String(node.value ?? '').trim();
  if (node.type === Scalar.PLAIN && /^(~|null|Null|NULL)$/.test(text)) return '';
  return text;
}

/** One pair of matching quotes around the whole value, as in `message: '"hello"'`. */
function unquote(s: string): string {
  const m = /^(["'])([\s\S]*)\1$/.exec(s);
  return m ? m[2].trim() : s;
}

function showValue(s: string): string {
  const oneLine = s.split('\n')[0];
  const cut = oneLine.length > SHOWN_VALUE_CHARS || oneLine !== s;
  return JSON.stringify(cut ? `${oneLine.slice(0, SHOWN_VALUE_CHARS)}…` : oneLine);
}

/** yaml's message without its " at line N, column M:" and source excerpt. */
function shortReason(message: string): string {
  return message
    .split(/ at line \d+, column \d+/)[0]
    .split('\n')[0]
    .trim();
}

function lineOf(lc: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

function fail(problems: GradeProblem[]): GradeResult {
  return { passed: false, message: problems.map((p) => p.message).join('\n'), problems };
}
