/**
 * YAML with source positions. Authors fix labs from messages like
 * `labs/x/track.yml:12: environment.hosts[1].name: ...`, so every problem we
 * report must point at the line of the field it is about. We keep each parsed
 * yaml Document with its LineCounter and map a zod issue path back to the
 * deepest node that exists in the file.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface Problem {
  /** Relative to the current directory when the file is below it, absolute otherwise. */
  file: string;
  /** 1-based. */
  line: number;
  column?: number;
  severity: 'error' | 'warning';
  message: string;
}

export type FieldPath = readonly PropertyKey[];

/** One YAML text (a track.yml, or an assignment's front matter) and where it sits in its file. */
export interface YamlSource {
  /** Display path of the file (see `displayPath`). */
  file: string;
  doc: Document;
  lines: LineCounter;
  /** Lines in the file before the YAML text starts (1 for front matter after the opening `---`). */
  lineOffset: number;
}

/** How files are named in problems: relative to cwd when inside it, absolute otherwise. */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** Parses YAML, returning the source and its syntax errors/warnings as problems with their lines. */
export function parseYaml(text: string, file: string, lineOffset = 0): { source: YamlSource; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: YamlSource = { file, doc, lines, lineOffset };
  const toProblem = (e: { pos: [number, number]; message: string }, severity: Problem['severity']): Problem => {
    // The yaml package's messages sometimes carry a trailing source excerpt; keep the first line.
    let message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    let offset = e.pos[0];
    // An unclosed `[` or `{` is only noticed lines later: point at the bracket instead.
    const flow = /^Flow (sequence|mapping) .* end with a ([\]}])/.exec(message);
    const opener = flow && text.lastIndexOf(flow[1] === 'sequence' ? '[' : '{', offset);
    if (flow && opener !== null && opener >= 0) {
      offset = opener;
      message = `this ${flow[1] === 'sequence' ? '[' : '{'} is never closed with ${flow[2]} (or what follows is not indented enough)`;
    }
    const { line, col } = lines.linePos(offset);
    return { file, line: line + lineOffset, column: col, severity, message: `YAML syntax: ${message}` };
  };
  // One broken bracket makes the parser report a cascade of follow-on errors: keep the first
  // structural error, plus every duplicate key (those are independent of each other).
  const firstOther = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
  const errors = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY' || e === firstOther);
  return {
    source,
    problems: [...errors.map((e) => toProblem(e, 'error')), ...doc.warnings.map((w) => toProblem(w, 'warning'))],
  };
}

/**
 * The deepest node along `fieldPath` that exists. For a map entry we return the
 * key when the value is not a scalar (a block list starts on the next line, the
 * author looks for `key:`), and the value when it is (the column then points at
 * the bad value). A missing field resolves to its parent.
 */
export function nodeAt(doc: Document, fieldPath: FieldPath): Node | null {
  let node: unknown = doc.contents;
  let found: Node | null = (doc.contents as Node | null) ?? null;
  for (const seg of fieldPath) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      found = value && isScalar(value) && value.range ? value : key;
      node = value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      found = node as Node;
    } else break;
  }
  return found;
}

/** 1-based line and column of `fieldPath` in the file (line of the first YAML line when nothing matches). */
export function positionOf(src: YamlSource, fieldPath: FieldPath): { line: number; column: number } {
  const node = nodeAt(src.doc, fieldPath);
  if (!node?.range) return { line: src.lineOffset + 1, column: 1 };
  const { line, col } = src.lines.linePos(node.range[0]);
  return { line: line + src.lineOffset, column: col };
}

/** `environment.hosts[1].name` */
export function formatPath(fieldPath: FieldPath): string {
  return fieldPath.reduce<string>(
    (s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${String(seg)}` : String(seg)),
    '',
  );
}

/** A problem about a field: located at its line, message prefixed with its path. */
export function problemAt(
  src: YamlSource,
  fieldPath: FieldPath,
  message: string,
  severity: Problem['severity'] = 'error',
): Problem {
  const { line, column } = positionOf(src, fieldPath);
  const where = formatPath(fieldPath);
  return { file: src.file, line, column, severity, message: where ? `${where}: ${message}` : message };
}

/** A problem about a whole file (a script, a missing file): line 1 unless told. */
export function problemIn(file: string, message: string, severity: Problem['severity'] = 'error', line = 1): Problem {
  return { file, line, severity, message };
}
