/** Helpers shared by the end-to-end specs: sessions through the API, terminals through the page. */
import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';

/** Starts a session in this page's browser context (the cookie binds it), optionally at a later challenge (author mode). */
export async function startSession(page: Page, lab: string, challenge?: string): Promise<string> {
  const res = await page.request.post('/api/v1/sessions', { data: challenge ? { lab, challenge } : { lab } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id as string;
}

export async function waitForStatus(page: Page, id: string, status: string, timeoutMs = 180_000) {
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/sessions/${id}`)).json()).status, { timeout: timeoutMs, intervals: [500] })
    .toBe(status);
}

/** The visible terminal's text (screen-reader mode, `?a11y=1`, puts it in the DOM). */
export const terminalText = (page: Page) => page.locator('[role="tabpanel"]:not([hidden]) .xterm-accessibility-tree');

export async function typeInTerminal(page: Page, line: string) {
  const input = page.locator('[role="tabpanel"]:not([hidden])').getByLabel('Terminal input');
  await input.focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

export function labelled(kind: 'ps' | 'network ls', sessionId: string): string[] {
  const args = kind === 'ps' ? ['ps', '-aq'] : ['network', 'ls', '-q'];
  const out = execFileSync('docker', [...args, '--filter', `label=labforge.session=${sessionId}`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

/**
 * Where any of `needles` can be read in the session's hosts, searched as the learner would
 * (root, through lf-sandbox): every process's environment and command line, and every file
 * outside /proc, /sys and /dev. The needles travel on stdin and reach grep through a pipe, so
 * the search's own command lines never hold them. Returns `host: where` lines; empty is good.
 */
export function readableInHosts(sessionId: string, needles: string[]): string[] {
  const search = [
    'pats=$(cat)',
    'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do',
    '  tr "\\0" "\\n" 2>/dev/null < "$f" | grep -qF -f <(printf "%s\\n" "$pats") && echo "$f"',
    'done',
    'grep -rlsF -f <(printf "%s\\n" "$pats") / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=.labforge',
    'exit 0',
  ].join('\n');
  const found: string[] = [];
  for (const container of labelled('ps', sessionId)) {
    const host = execFileSync('docker', ['inspect', '-f', '{{index .Config.Labels "labforge.host"}}', container], { encoding: 'utf8' }).trim();
    if (!host) continue; // a sidecar, not a learner host
    const out = execFileSync('docker', ['exec', '-i', container, '/.labforge/bin/lf-sandbox', '/.labforge/bin/bash', '-c', search], {
      input: needles.join('\n'),
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const line of out.split('\n').filter(Boolean)) found.push(`${host}: ${line}`);
  }
  return found;
}
