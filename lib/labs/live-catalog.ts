/**
 * The catalog `labforge dev` serves: one lab folder, loaded again after every burst of edits
 * (watch.ts calls reload()). Sessions hold no copy of their lab: every request looks it up here,
 * so a reload reaches open sessions at once, the assignment on the next read of the session and
 * the scripts on the next Check. A version with errors is not served: the last good one stays
 * (its scripts too, through script-versions.ts) and the problems are kept for the author, who
 * sees them in the terminal and on the session page. Listeners hear of every look at the files.
 */
import path from 'node:path';
import { log } from '../base/log';
import { LabCatalog } from './catalog';
import { formatProblem } from './lint';
import { loadLab } from './loader';
import { displayPath, problemIn, type Problem } from './positions';
import type { Lab } from './schema';
import { ScriptVersions } from './script-versions';
import { ASSIGNMENT_FILE, TRACK_FILE } from './sources';

const logger = log.child({ module: 'live-lab' });

/** What the author sees of the watched lab (the session page's banner, `labforge dev`'s output). */
export interface LiveLabStatus {
  /** The watched folder (absolute). */
  dir: string;
  /** Good versions loaded since start: 1 is the lab as it was at start. */
  version: number;
  /** When the served version was loaded (ISO 8601). */
  loadedAt: string;
  /** Errors of the files as they are now (`file:line: error: message`): while there are any, the previous version is served. */
  errors: string[];
  warnings: string[];
}

export class LiveCatalog extends LabCatalog {
  readonly dir: string;
  private current?: LiveLabStatus;
  private readonly scripts: ScriptVersions;
  private readonly listeners = new Set<(status: LiveLabStatus) => void>();
  private loading: Promise<void> = Promise.resolve();

  /** `scriptsDir`: where each version's scripts are copied (a folder of its own, outside `dir`); `keepVersions`: how many. */
  constructor(dir: string, opts: { scriptsDir: string; keepVersions?: number }) {
    super([]);
    this.dir = path.resolve(dir);
    this.scripts = new ScriptVersions(opts.scriptsDir, opts.keepVersions);
  }

  /** Reads the folder again; loads never overlap (the watcher and a caller may ask at once). */
  override load(): Promise<void> {
    // A load that failed (a script could not be copied) is the caller's to report, not the next load's.
    this.loading = this.loading.catch(() => undefined).then(() => this.loadOnce());
    return this.loading;
  }

  /** Undefined until a version loaded without errors (then there is nothing to serve). */
  status(): LiveLabStatus | undefined {
    return this.current;
  }

  /** The status, when `slug` is the watched lab's. */
  statusOf(slug: string): LiveLabStatus | undefined {
    return this.labs.has(slug) ? this.current : undefined;
  }

  /** Called after every load, good or not; returns the unsubscribe. */
  onChange(listener: (status: LiveLabStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes the copied scripts (the server is stopping). */
  async dispose(): Promise<void> {
    this.listeners.clear();
    await this.scripts.remove();
  }

  private async loadOnce(): Promise<void> {
    const { lab, problems } = await loadLab(this.dir).catch((e: Error) => ({
      lab: undefined,
      problems: [problemIn(displayPath(this.dir), `cannot read the lab: ${e.message}`)],
    }));
    const served = this.list()[0];
    const refusal = lab && served ? structureChange(served, lab, this.dir) : undefined;
    const all = refusal ? [...problems, refusal] : problems;
    const errors = all.filter((p) => p.severity === 'error').map(formatProblem);
    const warnings = all.filter((p) => p.severity === 'warning').map(formatProblem);
    if (lab && !refusal) {
      const version = (this.current?.version ?? 0) + 1;
      const pinned = await this.scripts.pin(lab, version);
      this.labs = new Map([[lab.track.slug, pinned]]);
      this.skipped = [];
      this.current = { dir: this.dir, version, loadedAt: new Date().toISOString(), errors, warnings };
      logger.info({ dir: this.dir, version, warnings: warnings.length }, version === 1 ? 'lab loaded' : 'lab reloaded');
    } else {
      this.skipped = [{ dir: this.dir, problems: all }];
      if (this.current) this.current = { ...this.current, errors, warnings };
      logger.warn({ dir: this.dir, errors }, served ? 'lab has errors: still serving the last good version' : 'lab has errors');
    }
    const status = this.current;
    if (status) for (const listener of this.listeners) listener(status);
  }
}

/**
 * Why `next` cannot replace `served` under open sessions: its slug names them, and each keeps one
 * progress row per challenge of the lab it started with (an added, removed or reordered challenge
 * would leave them pointing at the wrong one). Undefined when it can.
 */
export function structureChange(served: Lab, next: Lab, dir: string): Problem | undefined {
  const trackFile = displayPath(path.join(dir, TRACK_FILE));
  if (next.track.slug !== served.track.slug)
    return problemIn(trackFile, `the slug changed from "${served.track.slug}" to "${next.track.slug}": restart \`labforge dev\` to serve the lab under its new slug`);
  const before = served.challenges.map((c) => c.slug);
  const after = next.challenges.map((c) => c.slug);
  const at = after.findIndex((slug, i) => slug !== before[i]);
  if (at < 0 && after.length === before.length) return undefined;
  const changed = next.challenges[at];
  const file = changed ? displayPath(path.join(dir, changed.dir, ASSIGNMENT_FILE)) : trackFile;
  return problemIn(
    file,
    `the challenges changed (now ${after.join(', ') || 'none'}; served: ${before.join(', ')}): open sessions cannot follow; stop them and restart \`labforge dev\``,
  );
}
