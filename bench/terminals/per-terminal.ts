/**
 * Memory per open terminal (issue #14): open `count` terminals against one of our servers, each
 * until its shell has printed something, then read the server's RSS, and the RSS of the
 * processes it started (before #14 each terminal had a `docker exec` CLI process of its own,
 * which the server's own RSS does not show). Then close them again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { MiB, progress, round, rssBytes, sleep } from '../lib/stats';
import type { ChildServer } from './child';
import { labforgeConnector, type Connection } from './connectors';

/** `pid`'s descendants, from /proc (Linux). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  for (let frontier = [pid]; frontier.length;) {
    const next = [...parent].filter(([, pp]) => frontier.includes(pp)).map(([p]) => p);
    out.push(...next);
    frontier = next;
  }
  return out;
}

function treeRss(pid: number): { server: number; children: number; processes: number } {
  const kids = descendants(pid);
  return { server: rssBytes(pid) ?? 0, children: kids.reduce((n, p) => n + (rssBytes(p) ?? 0), 0), processes: kids.length };
}

export async function memoryPerTerminal(server: ChildServer, count: number, cols: number, rows: number) {
  await sleep(1000);
  const before = treeRss(server.pid);
  const open: Connection[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      const c = await labforgeConnector(server.port, { parse: false })(cols, rows);
      open.push(c);
      await c.bt.waitForOutput(30_000);
    }
    const openSeconds = (performance.now() - t0) / 1000;
    await sleep(2000); // shells settle (login scripts), the server's allocations too
    const after = treeRss(server.pid);
    const mib = (n: number) => round(n / MiB, 2);
    const result = {
      terminals: count,
      openSeconds: round(openSeconds, 1),
      serverRssBeforeMiB: mib(before.server),
      serverRssAfterMiB: mib(after.server),
      childProcessesBefore: before.processes,
      childProcessesAfter: after.processes,
      childrenRssAfterMiB: mib(after.children),
      /** The server process alone. */
      serverMiBPerTerminal: mib((after.server - before.server) / count),
      /** The server and every process it started: what the platform machine pays per terminal. */
      totalMiBPerTerminal: mib((after.server + after.children - before.server - before.children) / count),
    };
    progress(`  ${count} terminals: ${result.totalMiBPerTerminal} MiB each (server ${result.serverMiBPerTerminal}, ${after.processes} child processes)`);
    return result;
  } finally {
    for (const c of open) {
      c.bt.type('exit\r');
      c.close();
      c.bt.dispose();
    }
  }
}
