/**
 * The real <TrafficTab> in a real Chromium (Debian's, via playwright-core),
 * fed by a small HTTP server whose answers come from the real parser and
 * aggregate run over real tcpdump output: host names in the tables, the group
 * menu, the chart's text alternative, polling, the hidden-tab rule, the empty
 * state and errors.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrafficAggregate } from '../../lib/traffic/aggregate';
import { TcpdumpParser, type TrafficEvent } from '../../lib/traffic/parse';
import type { TrafficView } from '../../lib/traffic/types';
import { VERBOSE } from './fixtures/samples';

import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../../e2e/support/chromium';
const root = path.resolve(__dirname, '../..');
const NAMES: Record<string, string> = { '172.28.0.2': 'obi-wan', '172.28.0.3': 'luke', '172.28.0.5': 'red-leader' };
// The capture up to the first leave: luke joined 225.0.0.11 and .12, red-leader 225.0.0.21.
const BATTLE = VERBOSE.split('\n').slice(0, 13).join('\n');
const NOW = 1795677985_000;

function viewOf(text: string, extra: TrafficEvent[] = []): TrafficView {
  const parser = new TcpdumpParser();
  const agg = new TrafficAggregate();
  for (const ev of [...text.split('\n').flatMap((l) => parser.push(l)), ...extra]) agg.add(ev);
  return { groups: agg.view((ip) => NAMES[ip] ?? null, NOW), capturing: true, since: NOW - 60_000, now: NOW, bucketMs: 5_000, windowMs: 1_800_000 };
}

let outDir: string;
let server: http.Server;
let origin: string;
let browser: Browser;
const requests = new Map<string, number>();

/** Answers per session id; `poll` gains a sender from its third request on. */
function answer(session: string, n: number): { status: number; body: unknown } {
  if (session === 'battle') return { status: 200, body: viewOf(BATTLE) };
  if (session === 'poll') {
    const extra: TrafficEvent[] =
      n >= 3 ? [{ kind: 'packet', t: NOW - 2_000, src: '172.28.0.9', group: '225.0.0.11', port: 6666, bytes: 60, proto: 'UDP' }] : [];
    return { status: 200, body: viewOf(BATTLE, extra) };
  }
  if (session === 'empty') return { status: 200, body: { ...viewOf(''), groups: [] } };
  return { status: 404, body: { error: 'session not found' } };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (browser tests need it)`);
  outDir = mkdtempSync(path.join(os.tmpdir(), 'lf-traffic-page-'));
  await build({
    entryPoints: [path.join(__dirname, 'fixtures/traffic-page.tsx')],
    bundle: true,
    outdir: outDir,
    entryNames: 'page',
    format: 'esm',
    jsx: 'automatic',
    tsconfig: path.join(root, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.css': 'css' },
    logLevel: 'error',
  });
  const globals = readFileSync(path.join(root, 'app/globals.css'), 'utf8');
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${globals}</style><link rel="stylesheet" href="/page.css"></head>
<body><div id="root"></div><script type="module" src="/page.js"></script></body></html>`;
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/api\/v1\/sessions\/([^/]+)\/traffic$/.exec(url.pathname);
    if (m) {
      const n = (requests.get(m[1]) ?? 0) + 1;
      requests.set(m[1], n);
      const a = answer(m[1], n);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    } else if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else if (url.pathname === '/page.js' || url.pathname === '/page.css') {
      res.writeHead(200, { 'content-type': url.pathname.endsWith('.js') ? 'text/javascript' : 'text/css' }).end(readFileSync(path.join(outDir, url.pathname)));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', ...CHROMIUM_ARGS],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Opens the test page; the page's timers run on Playwright's clock, so polling is stepped, not waited for. */
async function open(query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.clock.install();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/?${query}`);
  return { page, errors };
}
const table = (page: Page, caption: string) => page.locator('table').filter({ has: page.locator('caption', { hasText: caption }) });

describe('<TrafficTab> in Chromium', () => {
  it('names the senders and the joined hosts of the chosen group', async () => {
    const { page, errors } = await open('session=battle');
    const menu = page.getByRole('combobox', { name: 'Multicast group' });
    await menu.waitFor();
    await page.locator('caption', { hasText: 'Senders to' }).waitFor();
    expect(await menu.locator('option').allTextContents()).toEqual(
      [
        '225.0.0.11 (1 sender, 1 joined)',
        '225.0.0.12 (0 senders, 1 joined)',
        '225.0.0.21 (0 senders, 1 joined)',
        '225.0.0.42 (1 sender, 0 joined)',
        '224.0.0.251 (1 sender, 0 joined)',
      ].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
    );
    // The group that spoke last comes first: 225.0.0.42 (the ICMP echo).
    expect(await menu.inputValue()).toBe('225.0.0.42');
    expect(await table(page, 'Senders to 225.0.0.42').locator('tbody th').allTextContents()).toEqual(['obi-wan']);

    await menu.selectOption('225.0.0.11');
    const senders = table(page, 'Senders to 225.0.0.11');
    await senders.waitFor();
    expect(await senders.locator('tbody tr').first().innerText()).toMatch(/obi-wan\s+172\.28\.0\.2\s+6666\s+1/);
    expect(await table(page, 'Joined 225.0.0.11').locator('tbody th').allTextContents()).toEqual(['luke']);
    expect(await page.getByRole('img').getAttribute('aria-label')).toMatch(/Packets to 225\.0\.0\.11 .* by sender: obi-wan 1$/);
    expect(await page.locator('.traffic-status').innerText()).toMatch(/Capturing since/);

    await menu.selectOption('225.0.0.21');
    await table(page, 'Senders to 225.0.0.21').waitFor();
    expect(await table(page, 'Senders to 225.0.0.21').innerText()).toMatch(/Nobody has sent to 225\.0\.0\.21/);
    expect(await table(page, 'Joined 225.0.0.21').locator('tbody th').allTextContents()).toEqual(['red-leader']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('polls every 2 s while visible and keeps the chosen group', async () => {
    const { page } = await open('session=poll');
    const menu = page.getByRole('combobox', { name: 'Multicast group' });
    await page.locator('caption', { hasText: 'Senders to' }).waitFor();
    await menu.selectOption('225.0.0.11');
    expect(requests.get('poll')).toBe(1);
    // Polls come only as the page's clock moves (it is Playwright's): step it until two more have
    // come. Steps of half a period, so a poll re-armed after a slow answer is not stepped over.
    await expect
      .poll(
        async () => {
          await page.clock.runFor(1_000);
          return requests.get('poll');
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBeGreaterThanOrEqual(3);
    // It shows as such, with its address.
    await page.locator('tbody th', { hasText: 'not a lab host' }).waitFor();
    expect(await table(page, 'Senders to 225.0.0.11').innerText()).toContain('172.28.0.9');
    expect(await menu.inputValue()).toBe('225.0.0.11');
    await page.close();
  });

  it('asks once when mounted hidden (to start the capture), then waits', async () => {
    const { page } = await open('session=battle-hidden&hidden=1');
    await expect.poll(() => requests.get('battle-hidden')).toBe(1);
    await page.clock.runFor(10_000); // five poll periods
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0))); // let any fetch they started leave
    expect(requests.get('battle-hidden')).toBe(1);
    await page.close();
  });

  it('explains the empty state and shows errors', async () => {
    const { page } = await open('session=empty');
    await page.getByText('No multicast traffic yet.').waitFor();
    expect(await page.locator('.traffic-empty').innerText()).toMatch(/once a host sends to a multicast group/);
    await page.close();
    const gone = await open('session=gone');
    await gone.page.locator('.traffic-status').filter({ hasText: 'session not found' }).waitFor();
    await gone.page.close();
  });
});
