/**
 * The core journey in real Chromium against a real server, real containers
 * and real ptys: catalog → Start lab → prompt → a command → Check fails with
 * a specific message → the work in the terminal → Check passes → Next.
 */
import { expect, test } from '@playwright/test';
import { labelled, terminalText, typeInTerminal } from './support/session';
import { expectAccessible } from './support/a11y';

test('a learner completes the first challenge of multicast-basics', async ({ page }) => {
  await page.goto('/');
  await expectAccessible(page, 'the catalog');
  await page.getByRole('link', { name: 'Multicast Basics: the Battle of Yavin' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Multicast Basics: the Battle of Yavin' })).toBeVisible();
  await expectAccessible(page, 'the lab page');
  await page.getByRole('button', { name: 'Start lab' }).click();
  await expect(page).toHaveURL(/\/sessions\/[a-z0-9]+/);
  const sessionId = new URL(page.url()).pathname.split('/').pop()!;
  await page.goto(`/sessions/${sessionId}?a11y=1`);

  // Provisioning, then the first challenge with its terminal.
  await expect(page.getByRole('heading', { level: 1, name: 'The fleet and the groups' })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole('tab', { name: /Terminal/ })).toBeVisible();
  await expect(terminalText(page)).toContainText('workstation:~#', { timeout: 30_000 });
  await expectAccessible(page, 'the session page');

  await typeInTerminal(page, 'echo "sum=$((40 + 2))"; hostname');
  await expect(terminalText(page)).toContainText('sum=42');

  // Check before doing the work: a specific message, not a generic failure.
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('alert')).toContainText('/root/the-force.txt is missing or empty');
  await expectAccessible(page, 'the session page with a failed Check');

  // The work, in the terminal.
  await typeInTerminal(page, 'ssh obi-wan cat message-for-luke.txt');
  await expect(terminalText(page)).toContainText('225.0.0.42', { timeout: 20_000 });
  await typeInTerminal(page, 'echo 225.0.0.42 > /root/the-force.txt && echo written');
  await expect(terminalText(page)).toContainText('written');

  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('status')).toContainText(/complete|Well done/i);

  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('heading', { level: 1 })).not.toHaveText('The fleet and the groups', { timeout: 60_000 });
  const session = await (await page.request.get(`/api/v1/sessions/${sessionId}`)).json();
  expect(session.index).toBe(1);
  expect(session.challenges[0].status).toBe('completed');

  // A reload returns to the same challenge with the same environment.
  const heading = await page.getByRole('heading', { level: 1 }).textContent();
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading!);

  // Deleting the session leaves nothing behind.
  expect(labelled('ps', sessionId).length).toBeGreaterThan(0);
  const del = await page.request.delete(`/api/v1/sessions/${sessionId}`);
  expect(del.ok()).toBe(true);
  expect(labelled('ps', sessionId)).toEqual([]);
  expect(labelled('network ls', sessionId)).toEqual([]);
});

test('another browser cannot see or drive a session', async ({ page, browser }) => {
  const res = await page.request.post('/api/v1/sessions', { data: { lab: 'multicast-basics' } });
  expect(res.status()).toBe(201);
  const { id } = await res.json();
  const other = await browser.newContext();
  try {
    const peek = await other.request.get(`/api/v1/sessions/${id}`);
    expect(peek.status()).toBe(404);
    const check = await other.request.post(`/api/v1/sessions/${id}/check`);
    expect(check.status()).toBe(404);
    const token = await other.request.post(`/api/v1/sessions/${id}/terminals/terminal/token`);
    expect(token.status()).toBe(404);
  } finally {
    await other.close();
    await page.request.delete(`/api/v1/sessions/${id}`);
  }
});

test("the header's API link opens the API reference", async ({ page }) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' }).click();
  await expect(page).toHaveURL(/\/api$/);
  await expect(page.getByRole('heading', { level: 1, name: 'HTTP API' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'POST /api/v1/sessions/:id/check' }).first()).toBeVisible();
  await expectAccessible(page, 'the API reference');
});
