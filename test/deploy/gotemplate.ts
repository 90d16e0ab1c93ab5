/**
 * A renderer for the subset of Go templates (text/template with Helm's and Sprig's functions)
 * that deploy/helm/labforge uses, so the chart is rendered and validated offline: no helm binary
 * and no Go toolchain on this machine or CI's. No npm library renders Helm templates (the ones
 * that exist parse plain `{{ .x }}` substitutions, or wrap a Go binary).
 *
 * Anything outside the subset is an error, never passed through: a construct this renderer does
 * not know fails the chart's test instead of rendering differently from Helm. Semantics follow
 * Go: `{{-`/`-}}` trim all adjacent whitespace, `if` and `with` test Go's truth (false, 0, nil,
 * "" and empty collections are false), `range` over a map goes in key order, a field of nil is an
 * error, numbers print as Go prints a float64 (values come from YAML through JSON), and toYaml
 * sorts keys as sigs.k8s.io/yaml does. `strict` makes a missing key an error (`helm lint --strict`).
 */
import crypto from 'node:crypto';
import YAML from 'yaml';

type Value = unknown;
type Node = { k: 'text'; s: string } | { k: 'out'; p: Pipe; at: string } | { k: 'if' | 'with' | 'range'; p: Pipe; then: Node[]; else: Node[]; at: string };
interface Pipe {
  decl: string[];
  cmds: Term[][];
}
type Term = { t: 'lit'; v: Value } | { t: 'field'; base: 'dot' | string; path: string[] } | { t: 'fn'; name: string } | { t: 'sub'; p: Pipe };

export interface RenderOptions {
  /** A missing map key is an error instead of nil. */
  strict?: boolean;
}

const isMap = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Go's truth for template conditions. */
export const truthy = (v: Value) =>
  !(v === undefined || v === null || v === false || v === 0 || v === 0n || v === '' || (Array.isArray(v) && !v.length) || (isMap(v) && !Object.keys(v).length));

/** How Go's fmt prints a value with %v: a float64 in the shortest form, exponent from 1e21 down to 1e+06. */
export function goString(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    const exp = Math.floor(Math.log10(Math.abs(v)));
    if (v !== 0 && (exp < -4 || exp >= 6)) {
      const [m, e] = v.toExponential().split('e');
      return `${m}e${e[0] === '-' ? '-' : '+'}${e.replace(/^[+-]/, '').padStart(2, '0')}`;
    }
    return String(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  // Go prints a list or map as [a b] or map[k:v]: never what a manifest wants (toYaml is).
  throw new Error(`printing a ${Array.isArray(v) ? 'list' : 'map'} is outside the subset: use toYaml`);
}

const toYaml = (v: Value) => (v === undefined || v === null ? 'null' : YAML.stringify(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, ''));
const indent = (n: number, s: string) => ' '.repeat(n) + s.replace(/\n/g, `\n${' '.repeat(n)}`);
/** Go compares only values of one kind: an int (a literal, `int`) with a float64 (a number from values) is an error. */
function compare(a: Value, b: Value, name: string): number {
  if (typeof a !== typeof b || !['number', 'bigint', 'string'].includes(typeof a)) throw new Error(`${name}: incompatible types for comparison`);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}
/** Go's int: a bigint here, so that it prints and compares as an int, not as a float64. */
const int = (v: Value): bigint =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : 0n;
const n = (v: Value) => Number(int(v));

// ---- lexing and parsing ----------------------------------------------------------------------

const TOKEN =
  /\s+|"(?:[^"\\]|\\.)*"|`[^`]*`|:=|[(),|=]|-?\d+(?:\.\d+)?|\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.|[A-Za-z_][A-Za-z0-9_]*/y;

function tokenize(src: string, at: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < src.length;) {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`${at}: cannot read "${src.slice(i, i + 20)}"`);
    if (m[0].trim()) out.push(m[0]);
    i = TOKEN.lastIndex;
  }
  return out;
}

function parsePipe(tokens: string[], at: string, allowDecl: boolean): Pipe {
  let i = 0;
  const decl: string[] = [];
  const declEnd = tokens.indexOf(':=');
  if (declEnd > 0) {
    if (!allowDecl) throw new Error(`${at}: a variable is declared where the subset has none`);
    for (const t of tokens.slice(0, declEnd)) if (t !== ',') decl.push(t);
    if (!decl.every((d) => /^\$[A-Za-z0-9_]+$/.test(d)) || decl.length > 2) throw new Error(`${at}: bad declaration`);
    i = declEnd + 1;
  }
  const cmds: Term[][] = [[]];
  while (i < tokens.length) {
    const t = tokens[i++];
    if (t === '|') {
      cmds.push([]);
      continue;
    }
    if (t === '(') {
      let depth = 1;
      const start = i;
      for (; i < tokens.length && depth; i++) depth += tokens[i] === '(' ? 1 : tokens[i] === ')' ? -1 : 0;
      if (tokens[i - 1] !== ')' || depth) throw new Error(`${at}: unclosed parenthesis`);
      cmds[cmds.length - 1].push({ t: 'sub', p: parsePipe(tokens.slice(start, i - 1), at, false) });
      continue;
    }
    cmds[cmds.length - 1].push(term(t, at));
  }
  if (cmds.some((c) => !c.length)) throw new Error(`${at}: empty command in a pipeline`);
  return { decl, cmds };
}

function term(t: string, at: string): Term {
  if (t.startsWith('"')) return { t: 'lit', v: JSON.parse(t) };
  if (t.startsWith('`')) return { t: 'lit', v: t.slice(1, -1) };
  if (/^-?\d+$/.test(t)) return { t: 'lit', v: BigInt(t) };
  if (/^-?\d/.test(t)) return { t: 'lit', v: Number(t) };
  if (t === 'true' || t === 'false') return { t: 'lit', v: t === 'true' };
  if (t === 'nil') return { t: 'lit', v: null };
  if (t === '.') return { t: 'field', base: 'dot', path: [] };
  if (t.startsWith('.')) return { t: 'field', base: 'dot', path: t.slice(1).split('.') };
  if (t.startsWith('$')) {
    const [name, ...path] = t.split('.');
    return { t: 'field', base: name, path };
  }
  if (!(t in FUNCS)) throw new Error(`${at}: function "${t}" is not in the renderer's subset`);
  return { t: 'fn', name: t };
}

interface Templates {
  defines: Map<string, Node[]>;
  files: Map<string, Node[]>;
}

/** Parses template files (name → text) into one set: `define`s are shared, as Helm does for a chart. */
export function parseTemplates(files: Record<string, string>): Templates {
  const out: Templates = { defines: new Map(), files: new Map() };
  for (const [name, text] of Object.entries(files)) out.files.set(name, parseFile(name, text, out.defines));
  return out;
}

function parseFile(name: string, text: string, defines: Map<string, Node[]>): Node[] {
  const ACTION = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  const stack: Array<{ nodes: Node[]; block?: Node & { then: Node[]; else: Node[] }; define?: string; inElse?: boolean; chained?: number }> = [{ nodes: [] }];
  const top = () => stack[stack.length - 1];
  const add = (n: Node) => top().nodes.push(n);
  let last = 0;
  let trimNext = false;
  for (let m = ACTION.exec(text); m; m = ACTION.exec(text)) {
    let before = text.slice(last, m.index);
    if (trimNext) before = before.replace(/^\s+/, '');
    if (m[1]) before = before.replace(/\s+$/, '');
    if (before) add({ k: 'text', s: before });
    last = ACTION.lastIndex;
    trimNext = !!m[3];
    const at = `${name}:${text.slice(0, m.index).split('\n').length}`;
    const body = m[2].trim();
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new Error(`${at}: unclosed comment`);
      continue;
    }
    const words = tokenize(body, at);
    const [kw] = words;
    const open = (k: 'if' | 'with' | 'range', rest: string[]) => {
      const node = { k, p: parsePipe(rest, at, k === 'range'), then: [] as Node[], else: [] as Node[], at };
      add(node);
      stack.push({ nodes: node.then, block: node });
    };
    if (kw === 'if' || kw === 'with' || kw === 'range') open(kw, words.slice(1));
    else if (kw === 'define') {
      if (stack.length > 1 || words.length !== 2) throw new Error(`${at}: define belongs at the top of a file, with a name`);
      stack.push({ nodes: [], define: JSON.parse(words[1]) as string });
    } else if (kw === 'else') {
      const frame = top();
      if (!frame.block || frame.inElse) throw new Error(`${at}: else without an open if, with or range`);
      frame.inElse = true;
      frame.nodes = frame.block.else;
      if (words[1] === 'if') {
        // `else if` is an if inside the else branch, closed by the same end.
        const node = { k: 'if' as const, p: parsePipe(words.slice(2), at, false), then: [] as Node[], else: [] as Node[], at };
        frame.block.else.push(node);
        stack.push({ nodes: node.then, block: node, chained: (frame.chained ?? 0) + 1 });
        stack[stack.length - 2].chained = undefined;
      } else if (words.length > 1) throw new Error(`${at}: else takes nothing but if`);
    } else if (kw === 'end') {
      if (stack.length === 1) throw new Error(`${at}: end without a block`);
      let frame = stack.pop()!;
      for (let n = frame.chained ?? 0; n > 0; n--) frame = stack.pop()!;
      if (frame.define) defines.set(frame.define, frame.nodes);
    } else if (kw === 'template' || kw === 'block' || kw === 'break' || kw === 'continue') {
      throw new Error(`${at}: "${kw}" is not in the renderer's subset`);
    } else add({ k: 'out', p: parsePipe(words, at, true), at });
  }
  let rest = text.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  if (rest) add({ k: 'text', s: rest });
  if (stack.length !== 1) throw new Error(`${name}: a block is not closed with end`);
  return stack[0].nodes;
}

// ---- evaluation ------------------------------------------------------------------------------

interface Scope {
  dot: Value;
  vars: Array<Map<string, Value>>;
  t: Templates;
  opts: RenderOptions;
}

type Fn = (s: Scope, ...args: Value[]) => Value;
const FUNCS: Record<string, Fn> = {
  include: (s, name, data) => {
    const nodes = s.t.defines.get(String(name));
    if (!nodes) throw new Error(`include: no template "${String(name)}"`);
    return run(nodes, { ...s, dot: data, vars: [new Map([['$', data]])] });
  },
  fail: (_s, msg) => {
    throw new TemplateFailure(String(msg));
  },
  required: (_s, msg, v) => {
    if (v === undefined || v === null || v === '') throw new TemplateFailure(String(msg));
    return v;
  },
  default: (_s, d, v) => (truthy(v) ? v : d),
  // Sprig skips nil arguments: a missing value quotes to nothing, not to "".
  quote: (_s, ...args) =>
    args
      .filter((a) => a !== undefined && a !== null)
      .map((a) => JSON.stringify(goString(a)))
      .join(' '),
  toYaml: (_s, v) => toYaml(v),
  indent: (_s, width, str) => indent(n(width), String(str)),
  nindent: (_s, width, str) => `\n${indent(n(width), String(str))}`,
  trunc: (_s, len, str) => String(str).slice(0, n(len)),
  trimSuffix: (_s, suffix, str) => (String(str).endsWith(String(suffix)) ? String(str).slice(0, -String(suffix).length) : String(str)),
  printf: (_s, format, ...args) => {
    let i = 0;
    return String(format).replace(/%([svdq%])/g, (_m, verb: string) =>
      verb === '%' ? '%' : verb === 'q' ? JSON.stringify(goString(args[i++])) : goString(args[i++]),
    );
  },
  print: (_s, ...args) => args.map(goString).join(''),
  sha256sum: (_s, str) => crypto.createHash('sha256').update(String(str)).digest('hex'),
  int: (_s, v) => int(v),
  not: (_s, v) => !truthy(v),
  and: (_s, ...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (_s, ...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  eq: (_s, a, b) => compare(a, b, 'eq') === 0,
  ne: (_s, a, b) => compare(a, b, 'ne') !== 0,
  gt: (_s, a, b) => compare(a, b, 'gt') > 0,
  lt: (_s, a, b) => compare(a, b, 'lt') < 0,
};

export class TemplateFailure extends Error {}

function lookup(s: Scope, base: 'dot' | string, path: string[], at: string): Value {
  let v: Value;
  if (base === 'dot') v = s.dot;
  else {
    const scope = [...s.vars].reverse().find((m) => m.has(base));
    if (!scope) throw new Error(`${at}: undefined variable ${base}`);
    v = scope.get(base);
  }
  for (const [i, key] of path.entries()) {
    if (v === undefined || v === null) throw new Error(`${at}: nil pointer evaluating .${path.slice(0, i + 1).join('.')}`);
    if (!isMap(v)) throw new Error(`${at}: can't evaluate field ${key} in a ${Array.isArray(v) ? 'list' : typeof v}`);
    if (!(key in v) && s.opts.strict) throw new Error(`${at}: map has no entry for key "${key}" (.${path.slice(0, i + 1).join('.')})`);
    v = v[key];
  }
  return v;
}

function evalPipe(p: Pipe, s: Scope, at: string): Value {
  let prev: Value;
  p.cmds.forEach((cmd, n) => {
    const [head, ...rest] = cmd;
    const args = rest.map((t) => evalTerm(t, s, at));
    if (n > 0) args.push(prev);
    if (head.t === 'fn') {
      try {
        prev = FUNCS[head.name](s, ...args);
      } catch (e) {
        if (e instanceof TemplateFailure) throw e;
        throw new Error(`${at}: ${head.name}: ${(e as Error).message}`);
      }
    } else if (args.length) throw new Error(`${at}: ${head.t === 'field' ? 'a value' : 'a literal'} takes no arguments`);
    else prev = evalTerm(head, s, at);
  });
  return prev;
}

function evalTerm(t: Term, s: Scope, at: string): Value {
  if (t.t === 'lit') return t.v;
  if (t.t === 'field') return lookup(s, t.base, t.path, at);
  if (t.t === 'sub') return evalPipe(t.p, s, at);
  return evalPipe({ decl: [], cmds: [[t]] }, s, at); // a function with no arguments
}

function run(nodes: Node[], s: Scope): string {
  let out = '';
  const inner = (dot: Value, vars: Map<string, Value> = new Map()): Scope => ({ ...s, dot, vars: [...s.vars, vars] });
  for (const n of nodes) {
    if (n.k === 'text') out += n.s;
    else if (n.k === 'out') {
      const v = evalPipe(n.p, s, n.at);
      if (n.p.decl.length) s.vars[s.vars.length - 1].set(n.p.decl[0], v);
      else
        try {
          out += goString(v);
        } catch (e) {
          throw new Error(`${n.at}: ${(e as Error).message}`);
        }
    } else if (n.k === 'if') out += truthy(evalPipe(n.p, s, n.at)) ? run(n.then, inner(s.dot)) : run(n.else, inner(s.dot));
    else if (n.k === 'with') {
      const v = evalPipe(n.p, s, n.at);
      out += truthy(v) ? run(n.then, inner(v)) : run(n.else, inner(s.dot));
    } else {
      const v = evalPipe(n.p, s, n.at);
      const items = rangeItems(v, n.at);
      if (!items.length) out += run(n.else, inner(s.dot));
      for (const [key, item] of items) {
        const vars = new Map<string, Value>();
        if (n.p.decl.length === 1) vars.set(n.p.decl[0], item);
        if (n.p.decl.length === 2) vars.set(n.p.decl[0], key).set(n.p.decl[1], item);
        out += run(n.then, inner(item, vars));
      }
    }
  }
  return out;
}

/** What `range` walks: a list's index and item, a map's key and value in key order; nil is empty. */
function rangeItems(v: Value, at: string): Array<[Value, Value]> {
  if (Array.isArray(v)) return v.map((x, i) => [BigInt(i), x]);
  if (isMap(v))
    return Object.keys(v)
      .sort()
      .map((k) => [k, v[k]]);
  if (v === undefined || v === null) return [];
  throw new Error(`${at}: range can't iterate over ${goString(v)}`);
}

/** Renders one parsed file with `root` as both `.` and `$`. */
export function renderFile(t: Templates, name: string, root: Value, opts: RenderOptions = {}): string {
  const nodes = t.files.get(name);
  if (!nodes) throw new Error(`no template file ${name}`);
  return run(nodes, { dot: root, vars: [new Map([['$', root]])], t, opts });
}
