/**
 * Per-session variables from the track's `variables:` (random picks, random strings, fixed
 * values). The platform keeps them: grades and injections read them here; a script gets only
 * those its `scripts:` scope names (a secret one, none by default), the browser only non-secret ones.
 */
import { randomInt } from 'node:crypto';
import type { ScriptKind, Variable } from '../labs/schema';
import { inScope } from '../labs/variable-uses';

/** Returns an integer in [0, max). Injected by tests for determinism; crypto randomness otherwise. */
export type Rng = (max: number) => number;

export const DEFAULT_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const cryptoRng: Rng = (max) => randomInt(max);

export function generateVariables(variables: readonly Variable[], rng: Rng = cryptoRng): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variables) {
    if (v.value !== undefined) out[v.name] = v.value;
    else if (v.pick) out[v.name] = v.pick[rng(v.pick.length)];
    else if (v.random) {
      // Array.from splits by code point, so an alphabet with non-ASCII letters stays intact.
      const alphabet = Array.from(v.random.alphabet ?? DEFAULT_ALPHABET);
      let s = '';
      for (let i = 0; i < v.random.length; i++) s += alphabet[rng(alphabet.length)];
      out[v.name] = s;
    } else {
      // The schema refuses this; say so rather than hand a script an empty value.
      throw new Error(`variable ${v.name} has none of pick, random or value`);
    }
  }
  return out;
}

/** The variables one script receives (`challenge`: its challenge's slug, or TRACK_SCOPE). */
export function scopedVariables(
  variables: readonly Variable[],
  values: Record<string, string>,
  kind: ScriptKind,
  host: string,
  challenge: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variables) if (v.name in values && inScope(v, kind, host, challenge)) out[v.name] = values[v.name];
  return out;
}
