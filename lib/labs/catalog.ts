/**
 * The labs the server offers: every lab folder under the labs directory that
 * loads without errors. Broken labs are skipped and their problems logged, so
 * one bad lab never takes the others down. `reload()` re-reads everything and
 * swaps the result in at once.
 */
import path from 'node:path';
import { log } from '../base/log';
import { formatProblem } from './lint';
import { loadLabs, type Problem } from './loader';
import type { Lab } from './schema';

const logger = log.child({ module: 'catalog' });

export class LabCatalog {
  // Protected for LiveCatalog (live-catalog.ts), which serves one watched lab folder.
  protected labs = new Map<string, Lab>();
  protected skipped: Array<{ dir: string; problems: Problem[] }> = [];
  readonly labsDirs: string[];

  /** One labs directory, or several (earlier ones win a slug clash). */
  constructor(labsDirs: string | string[]) {
    this.labsDirs = (Array.isArray(labsDirs) ? labsDirs : [labsDirs]).map((d) => path.resolve(d));
  }

  /** Loads every lab; safe to call again (same as reload). */
  async load(): Promise<void> {
    const next = new Map<string, Lab>();
    const skipped: typeof this.skipped = [];
    const results = (await Promise.all(this.labsDirs.map((d) => loadLabs(d)))).flat();
    for (const r of results) {
      const errors = r.problems.filter((p) => p.severity === 'error');
      const warnings = r.problems.filter((p) => p.severity === 'warning');
      if (!r.lab) {
        logger.error({ dir: r.dir, problems: errors.map(formatProblem) }, `lab skipped: ${errors.length} error(s)`);
        skipped.push({ dir: r.dir, problems: r.problems });
        continue;
      }
      if (warnings.length) logger.warn({ dir: r.dir, problems: warnings.map(formatProblem) }, 'lab loaded with warnings');
      const slug = r.lab.track.slug;
      const taken = next.get(slug);
      if (taken) {
        const message = `track slug "${slug}" is already used by ${taken.root}`;
        logger.error({ dir: r.dir, slug, other: taken.root }, 'lab skipped: another lab folder has the same slug');
        skipped.push({ dir: r.dir, problems: [{ file: path.join(r.dir, 'track.yml'), line: 1, severity: 'error', message }] });
        continue;
      }
      next.set(slug, r.lab);
    }
    this.labs = next;
    this.skipped = skipped;
    logger.info({ labsDirs: this.labsDirs, labs: [...next.keys()] }, `${next.size} lab(s) loaded`);
  }

  reload(): Promise<void> {
    return this.load();
  }

  /** Labs in folder name order. */
  list(): Lab[] {
    return [...this.labs.values()];
  }

  get(slug: string): Lab | undefined {
    return this.labs.get(slug);
  }

  /** Lab folders left out at the last load, with their problems (for an admin page or health check). */
  broken(): Array<{ dir: string; problems: Problem[] }> {
    return this.skipped;
  }
}
