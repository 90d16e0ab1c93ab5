/**
 * The challenge engine through the browser: a quiz answered wrong then right,
 * and a session that runs out of time is destroyed and shown as expired.
 */
import { expect, test } from '@playwright/test';
import { labelled, startSession, waitForStatus } from './support/session';
import { expectAccessible } from './support/a11y';

test('a quiz answered wrong, then right', async ({ page }) => {
  const id = await startSession(page, 'multicast-basics', 'quiz');
  await page.goto(`/sessions/${id}`);
  await expect(page.getByRole('heading', { level: 1, name: /Quiz/ })).toBeVisible({ timeout: 240_000 });
  const html = await page.content();
  expect(html).not.toContain('"solution"');
  await expectAccessible(page, 'a quiz');

  await page.getByLabel(/only available in Isovalent/).check();
  await page.getByRole('button', { name: 'Check' }).click();
  // Only "wrong": never which or how many choices are off.
  await expect(page.getByRole('alert')).toContainText('Not quite: that is not the right answer.');
  await expect(page.getByRole('alert')).not.toContainText(/\d|choice|missing/);
  await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();

  await page.getByLabel(/only available in Isovalent/).uncheck();
  await page.getByLabel(/beta feature/).check();
  await page.getByLabel(/has to be added to Cilium/).check();
  await page.getByLabel(/proc\/net\/igmp/).check();
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('status')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next' })).toBeEnabled();
  await page.request.delete(`/api/v1/sessions/${id}`);
});

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
