/**
 * The last two challenges of multicast-basics through the browser, in one session, as a learner
 * meets them: the quiz answered wrong (told only "wrong"), then right; Next; then the exam: a
 * listener in the terminal, the first Check has the platform send the secret from a hidden ship
 * (an injection: nothing runs aboard), the Traffic tab names the sender, answers.yaml is written
 * in the editor tab and graded (a wrong sender gets a precise message, then a pass). Until it is
 * sent, no candidate message can be read anywhere in any host. (One session for both: each start
 * there replays challenges 1-4 first, the costliest part of the e2e run.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { expect, test, type Page } from '@playwright/test';
import { readableInHosts, startSession, terminalText, typeInTerminal } from './support/session';
import { expectAccessible } from './support/a11y';

const track = parse(fs.readFileSync(path.resolve(import.meta.dirname, '../labs/multicast-basics/track.yml'), 'utf8'));
const phrases: string[] = track.variables.find((v: { name: string }) => v.name === 'SECRET_MESSAGE').pick;
const ships: string[] = track.variables.find((v: { name: string }) => v.name === 'HIDDEN_SENDER').pick;

/**
 * Writes answers.yaml in the Editor tab and saves it. With `slowReread`, the tab's re-read of the
 * file (it reloads whenever it comes into view) answers only after the learner has typed, as on a
 * slow network: the typed text must survive it and be what is saved.
 */
async function writeAnswers(page: Page, content: string, { slowReread = false } = {}) {
  let release = () => {};
  const files = '**/api/v1/sessions/*/files/**';
  if (slowReread) {
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route(files, async (route) => {
      if (route.request().method() === 'GET') await gate;
      await route.continue();
    });
  }
  await page.getByRole('tab', { name: 'Editor' }).click();
  const editor = page.getByLabel('Editor: /root/answers.yaml');
  await expect(editor).toContainText('message:');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.insertText(content);
  if (slowReread) {
    const reread = page.waitForResponse((r) => r.url().includes('/files/') && r.request().method() === 'GET');
    release();
    await reread;
    await page.unroute(files);
    await page.waitForTimeout(300); // the page reads the body and would apply it now
    await expect(page.locator('.editor .path')).toHaveText('/root/answers.yaml •');
  }
  await expect(editor).toContainText(content.split('\n')[0]);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved /root/answers.yaml')).toBeVisible();
}

test('the quiz, wrong then right; then the exam: listen, catch the secret, name the sender, get graded', async ({ page }) => {
  // Two challenges after a replay of four: 1.9 minutes alone on 2 cores, 2.3–2.4 in the whole suite.
  test.setTimeout(480_000);
  const id = await startSession(page, 'multicast-basics', 'quiz');
  await page.goto(`/sessions/${id}?a11y=1`);
  await expect(page.getByRole('heading', { level: 1, name: /Quiz/ })).toBeVisible({ timeout: 240_000 });
  expect(await page.content()).not.toContain('"solution"');
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
  await page.getByRole('button', { name: 'Next' }).click();

  // The exam: its setup has run when its heading shows.
  await expect(page.getByRole('heading', { level: 1, name: /Exam/ })).toBeVisible({ timeout: 60_000 });
  await expect(terminalText(page)).toContainText('workstation:~#', { timeout: 30_000 });

  // Check before listening: told precisely what is missing.
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('alert')).toContainText('No listener for 225.0.0.50:1234');

  // Nothing in any host (processes, environments, files) holds any of the possible messages.
  expect(readableInHosts(id, phrases)).toEqual([]);

  await typeInTerminal(page, 'socat -u UDP4-RECV:1234,reuseaddr,ip-add-membership=225.0.0.50:0.0.0.0 -');
  await page.waitForTimeout(1000); // the join reaches /proc/net/igmp at once; give socat a moment to bind
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('alert')).toContainText('A message was just sent on 225.0.0.50:1234');

  // The secret arrives in the listener.
  let secret = '';
  await expect
    .poll(
      async () => {
        const text = (await terminalText(page).textContent()) ?? '';
        secret = phrases.find((p) => text.includes(p)) ?? '';
        return secret;
      },
      { timeout: 20_000 },
    )
    .not.toBe('');

  // The Traffic tab names who sent it.
  await page.getByRole('tab', { name: 'Traffic' }).click();
  await expect(page.getByLabel('Multicast group').locator('option', { hasText: '225.0.0.50' })).toHaveCount(1, { timeout: 30_000 });
  await page.getByLabel('Multicast group').selectOption('225.0.0.50');
  const senders = page.getByRole('table', { name: 'Senders to 225.0.0.50' });
  const senderCell = senders.getByRole('rowheader').first();
  await expect(senderCell).toHaveText(new RegExp(ships.join('|')), { timeout: 30_000 });
  const sender = (await senderCell.textContent())!.trim();
  expect(ships).toContain(sender);

  // A wrong sender: a precise message that does not give the answer away.
  const wrong = ships.find((s) => s !== sender)!;
  await writeAnswers(page, `message: "${secret}"\nsender: ${wrong}\n`, { slowReread: true });
  await page.getByRole('button', { name: 'Check' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(`"sender" is "${wrong}"`);
  await expect(alert).toContainText('answers.yaml line 2');
  await expect(alert).not.toContainText(sender);
  await expectAccessible(page, 'the exam with a graded answer file');

  await writeAnswers(page, `message: "${secret}"\nsender: ${sender}\n`);
  // The same search finds the message now that the learner wrote it down: it is no dud.
  expect(readableInHosts(id, [secret])).toContain('workstation: /root/answers.yaml');
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByRole('status')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Next' })).toBeEnabled();
  await page.request.delete(`/api/v1/sessions/${id}`);
});
