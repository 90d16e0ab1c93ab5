/**
 * `labforge dev`: the whole runtime (start.ts) on one lab folder, in author mode, with the folder
 * watched. Each burst of saves reloads the lab (LiveCatalog); open sessions read it on their next
 * request (sessions hold no copy of their lab), and their pages hear of it through the author
 * event stream instead of polling faster. Track setup and the hosts are not made again: only a
 * new session gets those.
 */
import path from 'node:path';
import type { Config } from '../base/config';
import { authorEvents, AUTHOR_EVENTS_PATH } from '../http/author-events';
import { LiveCatalog } from '../labs/live-catalog';
import { formatProblem } from '../labs/lint';
import { displayPath } from '../labs/positions';
import { editorLeftovers, watchFolder } from '../labs/watch';
import { startRuntime, type StartedRuntime } from './start';

export interface DevRuntime extends StartedRuntime {
  /** The watched lab: its status, and a listener per look at its files. */
  live: LiveCatalog;
}

export interface DevOptions {
  /** Quiet time after the last save before a reload (watch.ts; default 150 ms). */
  quietMs?: number;
}

/** Throws, listing the errors, when the lab does not load at start: there would be nothing to serve. */
export async function startDevRuntime(config: Config, root: string, labDir: string, opts: DevOptions = {}): Promise<DevRuntime> {
  const dir = path.resolve(labDir);
  const live = new LiveCatalog(dir, { scriptsDir: path.join(config.dataDir, 'lab-versions') });
  await live.load();
  if (!live.status()) {
    const errors = live.broken().flatMap((b) => b.problems.filter((p) => p.severity === 'error'));
    await live.dispose();
    throw new Error(
      `${displayPath(dir)} cannot be served: fix ${errors.length === 1 ? 'this error' : 'these errors'} first:\n${errors.map(formatProblem).join('\n')}`,
    );
  }

  // No warm pools: their environments would hold the lab as it was when they were filled.
  const rt = await startRuntime({ ...config, authorMode: true, pools: [] }, root, {
    catalog: live,
    author: (slug) => {
      const status = live.statusOf(slug);
      return status && { ...status, events: AUTHOR_EVENTS_PATH };
    },
  });
  const events = authorEvents((listener) => live.onChange(listener));
  // A data folder inside the lab folder (`labforge dev .`) changes with every request: not an edit.
  const data = path.relative(dir, config.dataDir);
  const inData = (rel: string) => !data.startsWith('..') && !path.isAbsolute(data) && (rel === data || rel.startsWith(data + path.sep));
  let watch;
  try {
    watch = watchFolder(dir, () => live.reload(), { quietMs: opts.quietMs, ignore: (rel) => editorLeftovers(rel) || inData(rel) });
  } catch (e) {
    events.close();
    await rt.close();
    await live.dispose();
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    ...rt,
    live,
    handleRequest: events.handleRequest,
    close(drain) {
      closing ??= (async () => {
        watch.close();
        events.close();
        await rt.close(drain);
        await live.dispose();
      })();
      return closing;
    },
  };
}
