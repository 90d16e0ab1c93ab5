/**
 * The instructor journey in real Chromium, against a real server and real containers: sign in,
 * make a workshop invite, see a learner who joined through it appear on the live dashboard,
 * watch their terminal read-only while they type, extend their session, message them, and read
 * the lab's analytics with its charts. With E2E_SCREENSHOTS=1 it saves the pictures in docs/images.
 */
import { expect, test, type Page } from '@playwright/test';
import { terminalText, typeInTerminal } from './support/session';
import { ADMIN } from './support/accounts';

const SHOTS = process.env.E2E_SCREENSHOTS === '1';
const shoot = (page: Page, name: string) => (SHOTS ? page.screenshot({ path: `docs/images/${name}.png`, fullPage: true }) : Promise.resolve());

test('an instructor watches, extends and messages a learner, then reads the analytics', async ({ browser }) => {
  const instructor = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  const learner = await (await browser.newContext()).newPage();

  // Signing in: the dashboard sends a visitor to the login page and back.
  await instructor.goto('/instructor');
  await expect(instructor).toHaveURL(/\/login\?next=%2Finstructor/);
  await instructor.getByLabel('Email').fill(ADMIN.email);
  await instructor.getByLabel('Password').fill('not the password');
  await instructor.getByRole('button', { name: 'Sign in' }).click();
  await expect(instructor.getByRole('alert')).toHaveText('That email and password do not match an account.');
  await instructor.getByLabel('Password').fill(ADMIN.password);
  await instructor.getByRole('button', { name: 'Sign in' }).click();
  await expect(instructor.getByRole('heading', { level: 1, name: 'Live sessions' })).toBeVisible();

  // A workshop invite for the lab; its link is shown once.
  await instructor.getByRole('link', { name: 'Invites' }).click();
  await instructor.getByLabel('Workshop name').fill('Tuesday workshop');
  await instructor.getByRole('checkbox', { name: 'Workshop warm-up (e2e fixture)' }).check();
  await instructor.getByLabel('Seats (optional)').fill('5');
  await instructor.getByRole('button', { name: 'Create invite' }).click();
  const link = (await instructor.locator('.invite-url').textContent())!;
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{22}$/);

  // The learner joins through it, under a name.
  await learner.goto(new URL(link).pathname);
  await expect(learner.getByRole('heading', { level: 1, name: 'Tuesday workshop' })).toBeVisible();
  await learner.getByLabel('Your name').fill('Luke');
  await learner.getByRole('button', { name: 'Start Workshop warm-up (e2e fixture)' }).click();
  await expect(learner).toHaveURL(/\/sessions\/[a-z0-9]+$/);
  const sessionId = new URL(learner.url()).pathname.split('/').pop()!;
  await learner.goto(`/sessions/${sessionId}?a11y=1`);
  await expect(terminalText(learner)).toContainText('workstation:~#', { timeout: 120_000 });
  await learner.getByRole('button', { name: 'Check' }).click();
  await expect(learner.getByRole('alert')).toContainText('/root/greeting does not say hello yet');

  // The dashboard shows them by itself: name, workshop, lab and challenge titles, the failure.
  await instructor.getByRole('link', { name: 'Live sessions' }).click();
  const table = instructor.getByRole('table');
  const row = table.getByRole('row').filter({ hasText: 'Luke' });
  await expect(row).toContainText('Workshop warm-up (e2e fixture)');
  await expect(row).toContainText('Write a greeting');
  await expect(row).toContainText('Tuesday workshop');
  await expect(row).toContainText('/root/greeting does not say hello yet');

  // Watch: the learner's terminal, read-only, showing what they type.
  await row.getByRole('button', { name: 'Watch' }).click();
  const watch = instructor.getByRole('region', { name: 'Watching Luke' });
  await expect(watch.locator('[data-terminal-state="ready"][data-terminal-role="viewer"]')).toBeVisible({ timeout: 30_000 });
  // xterm's input box is there, and disabled: nothing typed in the viewer goes anywhere.
  await expect(watch.locator('textarea')).toHaveCount(1);
  await expect(watch.locator('textarea')).toBeDisabled();
  await typeInTerminal(learner, 'echo hello > /root/greeting; echo "watched $((6 * 7))"');
  await expect(terminalText(learner)).toContainText('watched 42');
  await expect(watch.locator('.xterm-rows')).toContainText('watched 42');
  await shoot(instructor, 'instructor-dashboard');

  // Extend: fifteen more minutes, beyond the learner's own one extension.
  const before = Date.parse((await (await learner.request.get(`/api/v1/sessions/${sessionId}`)).json()).expiresAt);
  await row.getByRole('button', { name: 'Extend' }).click();
  await expect(instructor.getByRole('status')).toContainText("Extended Luke's session");
  const after = Date.parse((await (await learner.request.get(`/api/v1/sessions/${sessionId}`)).json()).expiresAt);
  expect(after - before).toBe(15 * 60_000);

  // A message, shown on the learner's page.
  await row.getByRole('button', { name: 'Message' }).click();
  await instructor.getByLabel('Message to Luke').fill('Nice work: now try the quiz.');
  await instructor.getByRole('button', { name: 'Send' }).click();
  await expect(instructor.getByRole('status')).toContainText('Message sent to Luke');
  await expect(learner.getByRole('region', { name: 'Messages from your instructor' })).toContainText('Nice work: now try the quiz.', { timeout: 30_000 });

  // The learner passes the challenge and answers the quiz, wrong then right.
  await learner.getByRole('button', { name: 'Check' }).click();
  await expect(learner.getByRole('status')).toBeVisible();
  await learner.getByRole('button', { name: 'Next' }).click();
  await expect(learner.getByRole('heading', { level: 1, name: 'Quiz: where do groups show?' })).toBeVisible({ timeout: 60_000 });
  // One right answer: the choices are radio buttons.
  await learner.getByLabel('/etc/hosts').check();
  await learner.getByRole('button', { name: 'Check' }).click();
  await expect(learner.getByRole('alert')).toBeVisible();
  await learner.getByLabel('/proc/net/igmp').check();
  await learner.getByRole('button', { name: 'Check' }).click();
  await expect(learner.getByRole('status')).toBeVisible();

  // Analytics: every chart drawn.
  await instructor.getByRole('link', { name: 'Workshop warm-up (e2e fixture)' }).click();
  await expect(instructor).toHaveURL(/\/instructor\/labs\/workshop\/analytics/);
  for (const chart of ['funnel', 'times', 'failures', 'quiz', 'starts'])
    await expect(instructor.locator(`figure[data-chart="${chart}"] svg`).first(), `the ${chart} chart`).toBeVisible({ timeout: 30_000 });
  await expect(instructor.locator('figure[data-chart="failures"]')).toContainText('/root/greeting does not say hello yet');
  await shoot(instructor, 'instructor-analytics');

  await learner.request.delete(`/api/v1/sessions/${sessionId}`);
});
