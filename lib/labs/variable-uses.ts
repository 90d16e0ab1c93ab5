/**
 * Lint: a script that reads a session variable must be one the variable is given to.
 * Since secret variables reach no script by default (schema: `scripts:`), a script that
 * still says `$SECRET_MESSAGE` would see an empty value at run time: say so at its line.
 */
import fs from 'node:fs/promises';
import { problemIn, type Problem } from './positions';
import type { ScriptKind, Track, Variable } from './schema';
import type { ScriptFile } from './sources';

/** Scripts larger than this are not scanned (they fail to run anyway: runner.ts). */
const MAX_SCAN_BYTES = 256 * 1024;

/** Whether a script (`kind` in `host`) receives the variable: see `scripts:` in the schema. */
export function inScope(v: Pick<Variable, 'secret' | 'scripts'>, kind: ScriptKind, host: string): boolean {
  if (!v.scripts) return v.secret === false;
  return v.scripts.includes(kind) || v.scripts.includes(`${kind}-${host}`);
}

export async function checkVariableUses(track: Track, scripts: ScriptFile[]): Promise<Problem[]> {
  if (!track.variables.length) return [];
  const out: Problem[] = [];
  const patterns = track.variables.map((v) => ({ v, re: new RegExp(`\\$\\{?${v.name}(?![A-Za-z0-9_])`) }));
  for (const sc of scripts) {
    const text = await fs.readFile(sc.abs, 'utf8').catch(() => undefined);
    if (text === undefined || text.length > MAX_SCAN_BYTES) continue;
    const reported = new Set<string>();
    text.split('\n').forEach((raw, i) => {
      if (raw.trim().startsWith('#')) return;
      for (const { v, re } of patterns) {
        if (reported.has(v.name) || !re.test(raw) || inScope(v, sc.kind as ScriptKind, sc.host)) continue;
        reported.add(v.name);
        const given = v.scripts?.length ? `track.yml gives it only to ${v.scripts.join(', ')}` : 'a secret variable reaches no script unless its scripts: list names one';
        out.push(problemIn(sc.file, `uses $${v.name}, which ${sc.kind}-${sc.host} does not receive: ${given} (variables: scripts: [${sc.kind}-${sc.host}] to give it)`, 'error', i + 1));
      }
    });
  }
  return out;
}
