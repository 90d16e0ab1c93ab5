/**
 * Copies of a lab's lifecycle scripts, one folder per version, for `labforge dev`. Scripts are
 * read from disk each time they run (lib/checks/scripts.ts), so without copies a lab whose new
 * files have errors would still run its new scripts next to its old assignment. Each good
 * version's scripts are copied aside and the served lab points at the copies: a broken edit
 * changes nothing a session runs until it is fixed. Older versions are kept a while: a session
 * being provisioned (or a Check under way) runs the scripts of the version it started with.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Lab } from './schema';

type Scripts = Partial<Record<string, Record<string, string>>>;

export class ScriptVersions {
  /** `dir`: a folder of its own (emptied at version 1 and by remove()), outside the watched lab; `keep`: versions kept. */
  constructor(
    readonly dir: string,
    private readonly keep = 50,
  ) {}

  /** `lab` with its scripts copied to the folder of `version` and its script paths pointing there. */
  async pin(lab: Lab, version: number): Promise<Lab> {
    if (version === 1) await this.remove(); // what an earlier run left
    const into = path.join(this.dir, String(version));
    const copy = async (scripts: Scripts): Promise<Scripts> => {
      const out: Scripts = {};
      for (const [kind, byHost] of Object.entries(scripts)) {
        out[kind] = {};
        for (const [host, abs] of Object.entries(byHost ?? {})) {
          const to = path.join(into, path.relative(lab.root, abs));
          await fs.mkdir(path.dirname(to), { recursive: true });
          await fs.copyFile(abs, to);
          out[kind][host] = to;
        }
      }
      return out;
    };
    const challenges = [];
    for (const c of lab.challenges) challenges.push({ ...c, scripts: (await copy(c.scripts)) as typeof c.scripts });
    const trackScripts = (await copy(lab.trackScripts)) as Lab['trackScripts'];
    await this.prune(version);
    return { ...lab, challenges, trackScripts };
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** Versions older than the `keep` newest. */
  private async prune(newest: number): Promise<void> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const old = names.filter((n) => /^\d+$/.test(n) && Number(n) <= newest - this.keep);
    await Promise.all(old.map((n) => fs.rm(path.join(this.dir, n), { recursive: true, force: true })));
  }
}
