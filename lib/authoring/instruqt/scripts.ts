/**
 * An Instruqt lifecycle script → the same script for a Labforge host. Both run the file as an
 * executable whose exit code decides; the differences handled here:
 *
 * - `fail-message "..."` becomes `{ echo "FAIL:" "..."; exit 1; }`, the check convention
 *   Labforge documents (a `FAIL:` line on stdout is what the learner sees). Hosts also carry a
 *   `fail-message` in their toolbox, so a call this cannot rewrite safely still works.
 * - Instruqt hosts mark the end of their bootstrap with a file scripts wait for; a Labforge host
 *   is ready before any script runs, so the file is made at the top instead of waiting forever.
 * - what has no equivalent (`agent variable`, `set-workdir`, `$INSTRUQT_*`, downloads on an
 *   offline network) is reported at its line.
 */
import { problemIn, type Problem } from '../../labs/positions';
import { commandWords, tokenize } from './shell-words';

const BOOTSTRAP_FILE = '/opt/instruqt/bootstrap/host-bootstrap-completed';
const BOOTSTRAP_DONE = `# Instruqt hosts mark the end of their bootstrap with this file; a Labforge host is ready before any script runs.
mkdir -p /opt/instruqt/bootstrap && touch ${BOOTSTRAP_FILE}
`;

/** Lines that fetch from the internet, which a session network does not reach by default. */
const DOWNLOAD =
  /\b(apt(-get)?\s+(-\S+\s+)*(install|update)|apk\s+add|(yum|dnf)\s+install|pip3?\s+install|npm\s+(install|i|ci)|git\s+clone)\b|\b(curl|wget)\b.*\bhttps?:\/\/[^\s/:'"]*\.[a-z]{2,}/;

const HELPERS: Array<[RegExp, string]> = [
  [
    /(^|[\s;&|(])agent\s+variable\b/,
    "Instruqt's `agent variable` (values shared between scripts) does not exist on Labforge: this line fails; keep the value in a file in the host",
  ],
  [/(^|[\s;&|(])set-workdir\b/, "Instruqt's set-workdir does not exist on Labforge (terminals start in the host's workdir): this line fails"],
];

export function convertScript(source: string, file: string): { text: string; problems: Problem[] } {
  const problems: Problem[] = [];
  let text = source;
  if (text.includes('\r\n')) {
    text = text.replace(/\r\n/g, '\n');
    problems.push(problemIn(file, 'Windows line ends (CRLF) turned into LF, which the shell needs', 'warning'));
  }
  scan(text, file, problems);

  const rewritten = rewriteFailMessage(text);
  if (rewritten.lines.length) {
    const where = rewritten.lines.length === 1 ? '' : ` (lines ${rewritten.lines.join(', ')})`;
    const msg = `fail-message${where} → \`{ echo "FAIL:" ...; exit 1; }\`, Labforge's check convention: the learner sees the first FAIL line`;
    problems.push(problemIn(file, msg, 'warning', rewritten.lines[0]));
  } else if (rewritten.unparsed) {
    const msg = 'fail-message is kept as a call (a quote or $( in this script never closes, so it was not rewritten): the toolbox of every host provides it';
    problems.push(problemIn(file, msg, 'warning', rewritten.unparsed));
  }
  text = rewritten.text;

  const [first, ...rest] = text.split('\n');
  let head = first.startsWith('#!') ? `${first}\n` : '#!/bin/bash\n';
  let body = first.startsWith('#!') ? rest.join('\n') : text;
  if (!first.startsWith('#!')) problems.push(problemIn(file, 'no #! line: #!/bin/bash added (Labforge runs scripts as executables)', 'warning'));
  const waits = lineOf(text, BOOTSTRAP_FILE);
  if (waits) {
    head += BOOTSTRAP_DONE;
    problems.push(problemIn(file, `waits for ${BOOTSTRAP_FILE}, which only Instruqt hosts write: the script now makes it first`, 'warning', waits));
  }
  if (!body.endsWith('\n')) body += '\n';
  return { text: head + body, problems };
}

/** Reports, at their lines, what a Labforge host will not do for the script. */
function scan(text: string, file: string, problems: Problem[]): void {
  const seen = new Set<string>();
  let download = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '');
    for (const [re, msg] of HELPERS) if (re.test(line)) problems.push(problemIn(file, msg, 'error', i + 1));
    for (const [, name] of line.matchAll(/\$\{?(INSTRUQT_[A-Z0-9_]+)/g)) {
      if (seen.has(name)) continue;
      seen.add(name);
      problems.push(problemIn(file, `$${name} is Instruqt's: it is not set on Labforge (empty)`, 'warning', i + 1));
    }
    if (!download && DOWNLOAD.test(line)) {
      download = true;
      const msg =
        'downloads from the internet: a Labforge session network has no way out unless track.yml sets environment.network.egress: true (and this machine may have none)';
      problems.push(problemIn(file, msg, 'warning', i + 1));
    }
  });
}

/** Each `fail-message ARGS` command → `{ echo "FAIL:" ARGS; exit 1; }`; the 1-based lines changed. */
export function rewriteFailMessage(text: string): { text: string; lines: number[]; unparsed?: number } {
  if (!/\bfail-message\b/.test(text)) return { text, lines: [] };
  const tokens = tokenize(text);
  if (!tokens) return { text, lines: [], unparsed: lineOf(text, 'fail-message') };
  const edits: Array<{ start: number; end: number; with: string }> = [];
  for (const cmd of commandWords(tokens)) {
    if (cmd.text !== 'fail-message') continue;
    const at = tokens.indexOf(cmd);
    let last = at;
    while (tokens[last + 1]?.kind === 'word') last++;
    const args = last > at ? ` ${text.slice(tokens[at + 1].start, tokens[last].end)}` : '';
    edits.push({ start: cmd.start, end: tokens[last].end, with: `{ echo "FAIL:"${args}; exit 1; }` });
  }
  let out = text;
  for (const e of [...edits].reverse()) out = out.slice(0, e.start) + e.with + out.slice(e.end);
  const lines = edits.map((e) => text.slice(0, e.start).split('\n').length);
  return { text: out, lines: [...new Set(lines)] };
}

function lineOf(text: string, needle: string): number | undefined {
  const i = text.indexOf(needle);
  return i < 0 ? undefined : text.slice(0, i).split('\n').length;
}
