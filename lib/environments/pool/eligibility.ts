/**
 * Which labs may have a warm pool. Pool members run track setup before any
 * learner exists, so with NO session variables: a lab whose track setup reads
 * one of its declared variables would get an empty value and break silently.
 * Such labs are refused. The test is a plain word search of the track setup
 * scripts and of the files hosts receive (a script often just runs an asset);
 * it cannot see indirect use, and a name in an unrelated asset refuses the lab
 * (the safe direction: it only costs a cold start).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../../labs/schema';

/** Files bigger than this are not searched (binaries, archives). */
const MAX_SCAN_BYTES = 256 * 1024;

export interface VariableUse {
  variable: string;
  /** Path relative to the lab folder. */
  file: string;
  line: number;
}

/** Where declared variables appear in what track setup runs. Comment lines are ignored. */
export function trackSetupVariableUses(lab: Lab): VariableUse[] {
  const names = lab.track.variables.map((v) => v.name);
  if (!names.length) return [];
  const files = new Set<string>(Object.values(lab.trackScripts.setup ?? {}));
  for (const h of lab.track.environment.hosts) {
    for (const f of h.files) files.add(path.resolve(lab.root, f.from));
  }
  const uses: VariableUse[] = [];
  const patterns = names.map((n) => ({ name: n, re: new RegExp(`(^|[^A-Za-z0-9_])${n}($|[^A-Za-z0-9_])`) }));
  for (const file of files) {
    const text = readSmallText(file);
    if (text === undefined) continue;
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line.startsWith('#')) return;
      for (const p of patterns) {
        if (p.re.test(line)) uses.push({ variable: p.name, file: path.relative(lab.root, file), line: i + 1 });
      }
    });
  }
  return uses;
}

/** Why this lab cannot be pooled, or undefined when it can. */
export function poolRefusal(lab: Lab): string | undefined {
  const uses = trackSetupVariableUses(lab);
  if (!uses.length) return undefined;
  const where = uses
    .slice(0, 3)
    .map((u) => `$${u.variable} in ${u.file}:${u.line}`)
    .join(', ');
  return (
    `track setup uses session variables (${where}${uses.length > 3 ? ', ...' : ''}); pooled environments run track setup ` +
    'before any learner exists, without variables: move that work into the first challenge setup, or do not pool this lab'
  );
}

function readSmallText(file: string): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_SCAN_BYTES) return undefined;
    const buf = readFileSync(file);
    return buf.includes(0) ? undefined : buf.toString('utf8');
  } catch {
    return undefined;
  }
}
