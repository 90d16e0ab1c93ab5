/**
 * Which Debian mirror debootstrap fetches from when the caller names none: the
 * machine's own apt configuration, since no other registry may be reachable.
 */
import { readFileSync } from 'node:fs';

/**
 * The Debian mirror from the machine's own apt configuration: the deb822 file
 * (`debian.sources`) or the one-line `sources.list`. Skips security suites,
 * which live on a different path.
 */
export function mirrorFromAptConfig(deb822: string | null, sourcesList: string | null): string | null {
  const candidates: { uri: string; suites: string[] }[] = [];
  if (deb822) {
    for (const stanza of deb822.split(/\n\s*\n/)) {
      const field = (name: string) =>
        stanza
          .match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]
          .trim()
          .split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || !field('Components').includes('main')) continue;
      const uri = field('URIs')[0];
      if (uri) candidates.push({ uri, suites: field('Suites') });
    }
  }
  if (sourcesList) {
    for (const line of sourcesList.split('\n')) {
      const m = line.trim().match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/);
      if (m && m[3].split(/\s+/).includes('main')) candidates.push({ uri: m[1], suites: [m[2]] });
    }
  }
  const usable = candidates.filter((c) => c.suites.some((s) => !s.endsWith('-security')));
  const best = usable.find((c) => c.suites.includes('bookworm')) ?? usable[0];
  return best ? best.uri : null;
}

/** This machine's mirror (mirrorFromAptConfig over its apt files), or null. */
export function machineMirror(): string | null {
  return mirrorFromAptConfig(readIfExists('/etc/apt/sources.list.d/debian.sources'), readIfExists('/etc/apt/sources.list'));
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
