/**
 * Just enough of the shell's lexer to find where commands start in a script: words and
 * operators with their offsets, quotes, `$(...)`, backquotes, comments and here-documents
 * skipped as the shell would. scripts.ts uses it to rewrite calls of `fail-message` without
 * touching the same word inside a string, a comment or a here-document.
 */

export interface Token {
  kind: 'word' | 'op';
  text: string;
  start: number;
  end: number;
}

const OPS = ['&&', '||', ';;', ';', '|', '&', '(', ')', '\n'];
const BREAK = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')']);

/** The script's tokens, or undefined when a quote or `$(` is never closed (then nothing is rewritten). */
export function tokenize(src: string): Token[] | undefined {
  const out: Token[] = [];
  const heredocs: Array<{ delimiter: string; strip: boolean }> = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '\\' && src[i + 1] === '\n') i += 2;
    else if (c === '#') while (i < src.length && src[i] !== '\n') i++;
    else if (c === '\n') {
      out.push({ kind: 'op', text: '\n', start: i, end: i + 1 });
      i = skipHeredocs(src, i + 1, heredocs.splice(0));
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (op && !(op === '&' && src[i - 1] === '>')) {
        out.push({ kind: 'op', text: op, start: i, end: i + op.length });
        i += op.length;
        continue;
      }
      const end = wordEnd(src, i);
      if (end === undefined) return undefined;
      const text = src.slice(i, end);
      out.push({ kind: 'word', text, start: i, end });
      const here = text.startsWith('<<<') ? null : /^<<(-?)\s*(.*)$/.exec(text);
      if (here) heredocs.push({ delimiter: here[2] || '', strip: here[1] === '-' });
      i = end;
      if (here && !here[2]) {
        // `<< EOF`: the delimiter is the next word.
        while (src[i] === ' ' || src[i] === '\t') i++;
        const e = wordEnd(src, i);
        if (e === undefined) return undefined;
        heredocs[heredocs.length - 1].delimiter = src.slice(i, e);
        out.push({ kind: 'word', text: src.slice(i, e), start: i, end: e });
        i = e;
      }
    }
  }
  return out;
}

/** The end of the word starting at `i`, past quotes and substitutions; undefined when one never closes. */
function wordEnd(src: string, i: number): number | undefined {
  while (i < src.length && !BREAK.has(src[i])) {
    const c = src[i];
    if (c === '\\') i += 2;
    else if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) return undefined;
      i = close + 1;
    } else if (c === '"' || c === '`') {
      const close = closing(src, i + 1, c);
      if (close === undefined) return undefined;
      i = close + 1;
    } else if (c === '$' && src[i + 1] === '(') {
      const close = parenEnd(src, i + 2);
      if (close === undefined) return undefined;
      i = close + 1;
    } else if (c === '$' && src[i + 1] === '{') {
      const close = src.indexOf('}', i + 2);
      if (close < 0) return undefined;
      i = close + 1;
    } else if ((c === '>' || c === '<') && src[i + 1] === '&') i += 2;
    else i++;
  }
  return i;
}

/** Index of the quote that closes a `"` or backquote string opened before `i`. */
function closing(src: string, i: number, quote: string): number | undefined {
  while (i < src.length) {
    if (src[i] === '\\') i += 2;
    else if (src[i] === quote) return i;
    else if (quote === '"' && src[i] === '$' && src[i + 1] === '(') {
      const close = parenEnd(src, i + 2);
      if (close === undefined) return undefined;
      i = close + 1;
    } else i++;
  }
  return undefined;
}

/** Index of the `)` that closes a `$(` opened before `i`. */
function parenEnd(src: string, i: number): number | undefined {
  let depth = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') i += 2;
    else if (c === "'" || c === '"' || c === '`') {
      const close = c === "'" ? src.indexOf("'", i + 1) : closing(src, i + 1, c);
      if (close === undefined || close < 0) return undefined;
      i = close + 1;
    } else {
      if (c === '(') depth++;
      if (c === ')' && --depth === 0) return i;
      i++;
    }
  }
  return undefined;
}

/** Skips the bodies of the here-documents opened on the line that just ended. */
function skipHeredocs(src: string, i: number, pending: Array<{ delimiter: string; strip: boolean }>): number {
  for (const { delimiter, strip } of pending) {
    const word = delimiter.replace(/^['"]|['"]$/g, '').replace(/\\/g, '');
    while (i < src.length) {
      const nl = src.indexOf('\n', i);
      const line = src.slice(i, nl < 0 ? src.length : nl);
      i = nl < 0 ? src.length : nl + 1;
      if ((strip ? line.replace(/^\t+/, '') : line) === word) break;
    }
  }
  return i;
}

/** Words after which the next word starts a command. */
const LEADS = new Set(['then', 'else', 'elif', 'do', 'if', 'while', 'until', '!', '{', '}', 'time']);

/** Tokens of the words that are the name of a command (first word, after an operator or a keyword). */
export function commandWords(tokens: Token[]): Token[] {
  const out: Token[] = [];
  let commandPosition = true;
  for (const t of tokens) {
    if (t.kind === 'op') commandPosition = true;
    else if (commandPosition) {
      out.push(t);
      // `FOO=1 cmd` and `then cmd`: the next word is still a command name.
      commandPosition = LEADS.has(t.text) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(t.text);
    }
  }
  return out;
}
