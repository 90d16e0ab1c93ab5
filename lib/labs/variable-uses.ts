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

/** The challenge slug that track scripts go by in scopes (`track/setup-workstation`). */
export const TRACK_SCOPE = 'track';

/**
 * Whether a script (`kind` in `host`, of the challenge with slug `challenge`, or TRACK_SCOPE)
 * receives the variable: see `scripts:` in the schema.
 */
export function inScope(v: Pick<Variable, 'secret' | 'scripts'>, kind: ScriptKind, host: string, challenge: string): boolean {
  if (!v.scripts) return v.secret === false;
  const names = [kind, `${kind}-${host}`];
  return names.some((n) => v.scripts!.includes(n) || v.scripts!.includes(`${challenge}/${n}`));
}

export async function checkVariableUses(track: Track, scripts: Array<ScriptFile & { challenge: string }>): Promise<Problem[]> {
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
        if (reported.has(v.name) || !re.test(raw) || inScope(v, sc.kind as ScriptKind, sc.host, sc.challenge)) continue;
        reported.add(v.name);
        const given = v.scripts?.length ? `track.yml gives it only to ${v.scripts.join(', ')}` : 'a secret variable reaches no script unless its scripts: list names one';
        const scope = `${sc.challenge}/${sc.kind}-${sc.host}`;
        out.push(problemIn(sc.file, `uses $${v.name}, which ${scope} does not receive: ${given} (variables: scripts: [${scope}] to give it)`, 'error', i + 1));
      }
    });
  }
  return out;
}
