/**
 * A lab folder watched for edits (`labforge dev`). An editor's save is several events (write,
 * rename, chmod) and a `git checkout` hundreds: a burst becomes one call, once the folder has
 * been quiet for `quietMs`, or at the latest `maxWaitMs` after the burst began, so a tool that
 * writes without pause still gets reloads. Calls never overlap: events during one are collected
 * and make one more call after it.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { log as rootLog } from '../base/log';

const logger = rootLog.child({ module: 'watch' });

/** What fs.watch returns, as far as this module uses it (tests hand in a fake). */
export interface Watcher {
  close(): void;
  on(event: 'error', listener: (e: Error) => void): unknown;
}

/** Calls `listener` with paths relative to `dir`; leaves out folders `ignore` names. */
export type WatchFn = (dir: string, listener: (event: string, file: string | null) => void, ignore: (rel: string) => boolean) => Watcher;

export interface WatchOptions {
  /** Quiet time after the last event before the call (default 150 ms). */
  quietMs?: number;
  /** Longest wait after the first event of a burst (default 1000 ms). */
  maxWaitMs?: number;
  /** Paths (relative to the folder) whose events are not edits; default: editorLeftovers. */
  ignore?: (rel: string) => boolean;
  watch?: WatchFn;
}

export interface FolderWatch {
  close(): void;
}

/**
 * fs.watch on each folder of the tree, not `recursive: true`: Node 20 implements that on Linux with
 * a watcher per file, which loses a file an editor saves by renaming a new copy over it (vim,
 * JetBrains' safe write, `sed -i`): its later saves go unseen. A folder's own watcher names its
 * entries whatever their inode; folders that appear get watchers of their own.
 */
const treeWatch: WatchFn = (root, listener, ignore) => {
  const watchers = new Map<string, fs.FSWatcher>();
  const errors = new EventEmitter();
  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    const w = fs.watch(dir, (event, name) => {
      const abs = name ? path.join(dir, String(name)) : dir;
      if (event === 'rename') {
        if (isDir(abs) && !ignore(path.relative(root, abs))) addQuietly(abs);
        else dropUnder(abs);
      }
      listener(event, path.relative(root, abs));
    });
    w.on('error', (e) => {
      dropUnder(dir);
      errors.emit('error', e);
    });
    watchers.set(dir, w);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const sub = path.join(dir, entry.name);
      if (entry.isDirectory() && !ignore(path.relative(root, sub))) addQuietly(sub);
    }
  };
  // A subfolder gone before it could be watched is no error: its parent's event says it changed.
  const addQuietly = (dir: string) => {
    try {
      add(dir);
    } catch {
      dropUnder(dir);
    }
  };
  const dropUnder = (dir: string) => {
    for (const [d, w] of watchers) {
      if (d !== dir && !d.startsWith(dir + path.sep)) continue;
      w.close();
      watchers.delete(d);
    }
  };
  try {
    add(root);
  } catch (e) {
    dropUnder(root);
    throw e;
  }
  return {
    close: () => dropUnder(root),
    on: (event, fn) => errors.on(event, fn),
  };
};

const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** Dot files and folders (.git, vim's .x.swp, emacs' .#x), backups (x~) and vim's write test (4913). */
export function editorLeftovers(rel: string): boolean {
  return rel.split(/[\\/]/).some((part) => part.startsWith('.') || part.endsWith('~') || part === '4913');
}

/**
 * Calls `onChange` with the changed paths (relative, sorted; '' when the platform did not say)
 * after each burst of events under `dir`. Throws when the folder cannot be watched at all.
 */
export function watchFolder(dir: string, onChange: (files: string[]) => unknown, opts: WatchOptions = {}): FolderWatch {
  const { quietMs = 150, maxWaitMs = 1000, ignore = editorLeftovers, watch = treeWatch } = opts;
  const pending = new Set<string>();
  let quiet: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let running = false;
  let closed = false;

  const clearTimers = () => {
    clearTimeout(quiet);
    clearTimeout(deadline);
    quiet = deadline = undefined;
  };
  const schedule = () => {
    clearTimeout(quiet);
    quiet = setTimeout(fire, quietMs);
    deadline ??= setTimeout(fire, maxWaitMs);
  };
  function fire() {
    clearTimers();
    // While a call runs, events only collect: its end schedules the next call.
    if (running || closed || !pending.size) return;
    const files = [...pending].sort();
    pending.clear();
    running = true;
    void Promise.resolve()
      .then(() => onChange(files))
      .catch((e: Error) => logger.error({ dir, err: e.message }, 'reacting to a change failed'))
      .finally(() => {
        running = false;
        if (pending.size && !closed) schedule();
      });
  }

  let watcher: Watcher;
  try {
    watcher = watch(
      dir,
      (_event, file) => {
        const rel = file ? path.normalize(String(file)) : '';
        if (closed || (rel && ignore(rel))) return;
        pending.add(rel === '.' ? '' : rel);
        schedule();
      },
      ignore,
    );
  } catch (e) {
    throw new Error(`cannot watch ${dir}: ${(e as Error).message}`);
  }
  // A folder removed or out of inotify watches: say so; the server keeps serving what it has.
  watcher.on('error', (e) => logger.error({ dir, err: e.message }, 'watching the lab folder stopped'));

  return {
    close() {
      closed = true;
      clearTimers();
      watcher.close();
    },
  };
}
