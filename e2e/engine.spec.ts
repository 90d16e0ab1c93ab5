/**
 * The challenge engine through the browser: a session that runs out of time is destroyed and
 * shown as expired. (A quiz answered wrong then right: exam.spec.ts, in the session of the exam.)
 */
import { expect, test } from '@playwright/test';
import { labelled, startSession, waitForStatus } from './support/session';
import { expectAccessible } from './support/a11y';

test('a session past its time limit is destroyed and shown as expired', async ({ page }) => {
  const id = await startSession(page, 'expiring');
  await page.goto(`/sessions/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Wait for the clock' })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('timer', { name: 'Time left' })).toBeVisible();
  expect(labelled('ps', id).length).toBe(1);

  await waitForStatus(page, id, 'expired', 90_000);
  await expect(page.getByRole('alert')).toContainText('expired', { timeout: 15_000 });
  await expect(page.getByText('Why: the time limit was reached.')).toBeVisible();
  await expectAccessible(page, 'an expired session');
  expect(labelled('ps', id)).toEqual([]);
  expect(labelled('network ls', id)).toEqual([]);
});
