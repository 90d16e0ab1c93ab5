/**
 * Declarative answer grading: a challenge's `grade:` names a YAML file the learner writes in a
 * host (`/root/answers.yaml`) and the expected value of each field (a session variable, a
 * literal or a regex). Messages point at the file, line and field, and say what was expected
 * without ever revealing a variable's value.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar } from 'yaml';
import type { Environment, EnvironmentDriver } from '../environments/driver';
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
const SHOWN_VALUE_CHARS = 80;

type Field = Grade['fields'][number];

export function gradeAnswers(grade: Grade, fileText: string, vars: Record<string, string>): GradeResult {
  const file = path.posix.basename(grade.file);
  const whole = (message: string, line?: number): GradeResult => fail([{ field: '', line, message }]);

  const lineCounter = new LineCounter();
  // failsafe: every scalar stays a string, so `port: 08` or `answer: yes` are read as typed.
  const doc = parseDocument(fileText, { lineCounter, schema: 'failsafe', prettyErrors: true });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const line = err.linePos?.[0]?.line;
    return whole(`${file}${line ? ` line ${line}` : ''}: ${shortReason(err.message)}`, line);
  }
  if (doc.contents === null || (isScalar(doc.contents) && String(doc.contents.value).trim() === ''))
    return whole(`${file} is empty; it must be a YAML mapping of field: value`);
  if (!isMap(doc.contents)) return whole(`${file} must be a YAML mapping of field: value`);

  const pairs = doc.contents.items.map((p) => ({
    key: isScalar(p.key) ? String(p.key.value) : String(p.key),
    line: lineOf(lineCounter, p.key),
    value: p.value,
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
export async function gradeFromHost(
  driver: EnvironmentDriver,
  env: Environment,
  grade: Grade,
  vars: Record<string, string>,
): Promise<GradeResult> {
  let buf: Buffer;
  try {
    buf = await driver.readFile(env, grade.host, grade.file);
  } catch (e) {
    return fail([{ field: '', message: await whyUnreadable(driver, env, grade, e as Error) }]);
  }
  if (buf.length > MAX_ANSWER_BYTES)
    return fail([
      { field: '', message: `${grade.file} in ${grade.host} is too big (${Math.ceil(buf.length / 1024)} KiB); it should hold only field: value lines` },
    ]);
  return gradeAnswers(grade, buf.toString('utf8'), vars);
}

/** Tells "not there" from "there but unreadable" by asking the host, since drivers word errors differently. */
async function whyUnreadable(driver: EnvironmentDriver, env: Environment, grade: Grade, err: Error): Promise<string> {
  try {
    const r = await driver.exec(env, grade.host, ['sh', '-c', 'if [ -d "$1" ]; then exit 3; elif [ -e "$1" ]; then exit 0; else exit 2; fi', 'sh', grade.file], {
      user: 'root',
      timeoutMs: 10_000,
    });
    if (r.exitCode === 2) return `${grade.file} not found in ${grade.host}`;
    if (r.exitCode === 3) return `${grade.file} in ${grade.host} is a directory; it must be a file`;
  } catch {
    // The host itself is unreachable: fall through to the driver's own reason.
  }
  return `could not read ${grade.file} in ${grade.host}: ${err.message.split('\n')[0]}`;
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
  return message.split(/ at line \d+, column \d+/)[0].split('\n')[0].trim();
}

function lineOf(lc: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

function fail(problems: GradeProblem[]): GradeResult {
  return { passed: false, message: problems.map((p) => p.message).join('\n'), problems };
}
