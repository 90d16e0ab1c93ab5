/**
 * A learner host killed under a live session, in the browser (issue #10 item 5): the page says
 * what happened and offers Restart; after it, the file is still there and the terminal works
 * again without a reload. The server's watch pass runs every LABFORGE_WATCH_SECONDS (10).
 */
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { labelled, startSession, terminalText, typeInTerminal } from './support/session';
import { expectAccessible } from './support/a11y';

test('a killed host is shown with the reason, restarted from the page, and its terminal comes back', async ({ page }) => {
  const id = await startSession(page, 'stopping');
  await page.goto(`/sessions/${id}?a11y=1`);
  await expect(page.getByRole('heading', { level: 1, name: 'Keep a file' })).toBeVisible({ timeout: 120_000 });
  await expect(terminalText(page)).toContainText('workstation:~#', { timeout: 30_000 });
  await typeInTerminal(page, 'echo kept-across > /root/keep && echo written');
  await expect(terminalText(page)).toContainText('written');

  const [container] = labelled('ps', id);
  execFileSync('docker', ['kill', container]);
  const banner = page.getByRole('alert').filter({ hasText: 'workstation stopped at' });
  // Watch pass (10 s) + the page's own refresh (10 s).
  await expect(banner).toContainText(/it was killed \(SIGKILL\)\. Your files are kept; programs that were running ended\. Press Restart workstation\./, {
    timeout: 45_000,
  });
  await expect(page.locator('.lf-terminal')).toHaveAttribute('data-terminal-state', /closed|reconnecting/);
  await expectAccessible(page, 'the session page with a stopped host');

  // A Check says what to do instead of an engine error.
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'restart it first' })).toHaveText('workstation is stopped: restart it first');

  await page.getByRole('button', { name: 'Restart workstation' }).click();
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByText('restart it first')).toHaveCount(0); // the Check's answer is out of date now
  await expect(page.getByRole('status').filter({ hasText: 'Host notices' })).toContainText('restarted on workstation');
  await expectAccessible(page, 'the session page after a restart');

  // The terminal reconnects by itself, to the restarted host, with the file still there.
  await expect(page.locator('.lf-terminal')).toHaveAttribute('data-terminal-state', 'ready', { timeout: 30_000 });
  await typeInTerminal(page, 'cat /root/keep');
  await expect(terminalText(page)).toContainText('kept-across', { timeout: 15_000 });

  await page.request.delete(`/api/v1/sessions/${id}`);
  expect(labelled('ps', id)).toEqual([]);
});
