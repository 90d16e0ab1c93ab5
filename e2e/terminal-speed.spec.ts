/**
 * A bench figure in real Chromium (issue #14): during `yes` in a learner's terminal, Ctrl-C until
 * the next prompt is in the page. Each sample is timed inside the page (the Ctrl-C keydown to
 * the mutation that shows the prompt) and the figure is printed as one JSON line; what the test
 * asserts is that the prompt came back each time and `yes` no longer runs in the host, never a
 * time.
 *
 * Two figures: the page as learners get it (the prompt read from xterm's rows), and with the
 * screen-reader mode on (`?a11y=1`, the prompt read from its accessibility tree). xterm refreshes
 * that tree at most once a second while output keeps coming (TimeBasedDebouncer, 1000 ms, so a
 * screen reader is not flooded), so there the prompt appears 0–1 s after it is drawn: the two are
 * reported apart instead of one hiding the other.
 */
import { execFileSync } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { labelled, startSession, typeInTerminal } from './support/session';

const SAMPLES = 3;
/** A prompt no output of `yes` can contain. */
const MARK = 'lf-ready';

const MODES = [
  { mode: 'default', query: '', screen: '.xterm-rows' },
  { mode: 'screen-reader', query: '?a11y=1', screen: '.xterm-accessibility-tree' },
] as const;

for (const { mode, query, screen } of MODES) {
  test(`Ctrl-C during yes brings the prompt back (${mode} page); prints the time it took`, async ({ page }) => {
    const selector = `[role="tabpanel"]:not([hidden]) ${screen}`;
    const text = (p: Page) => p.locator(selector);
    const id = await startSession(page, 'stopping');
    await page.goto(`/sessions/${id}${query}`);
    await expect(text(page)).toContainText('workstation:~#', { timeout: 120_000 });
    await typeInTerminal(page, `PS1='${MARK}\\$ '`);
    await expect(text(page)).toContainText(`${MARK}#`);

    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      await typeInTerminal(page, 'yes');
      // Flooding: the screen holds nothing but `y` lines (the prompt scrolled away).
      await expect(text(page)).not.toContainText(MARK, { timeout: 30_000 });
      await page.waitForTimeout(1000); // a second of flood, as a learner would let it run
      // Timed in the page: from the keydown to the first change that shows the prompt again.
      await page.evaluate(
        ({ mark, selector }) => {
          const w = window as unknown as { lfCtrlC?: { t0?: number; t1?: number } };
          const probe: { t0?: number; t1?: number } = {};
          w.lfCtrlC = probe;
          const tree = document.querySelector(selector)!;
          const seen = () => {
            if (probe.t0 !== undefined && probe.t1 === undefined && tree.textContent!.includes(mark)) probe.t1 = performance.now();
          };
          new MutationObserver(seen).observe(tree, { childList: true, subtree: true, characterData: true });
          document.addEventListener('keydown', (e) => void (e.ctrlKey && e.key === 'c' && probe.t0 === undefined && (probe.t0 = performance.now())), {
            capture: true,
          });
        },
        { mark: MARK, selector },
      );
      await page.keyboard.press('Control+c');
      await expect(text(page)).toContainText(`${MARK}#`, { timeout: 30_000 });
      const ms = await page.evaluate(() => {
        const p = (window as unknown as { lfCtrlC: { t0?: number; t1?: number } }).lfCtrlC;
        return p.t0 !== undefined && p.t1 !== undefined ? p.t1 - p.t0 : null;
      });
      expect(ms, 'the page saw the Ctrl-C and then the prompt').not.toBeNull();
      samples.push(ms!);
      await typeInTerminal(page, 'clear');
    }

    // The prompt is back because `yes` ended, in the host.
    const [container] = labelled('ps', id);
    const left = execFileSync('docker', ['exec', container, 'sh', '-c', 'pgrep -x yes || echo none'], { encoding: 'utf8' });
    expect(left.trim()).toBe('none');
    const sorted = [...samples].sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        bench: 'e2e-terminal',
        figure: 'ctrlcToPromptVisibleMs',
        browser: 'chromium',
        mode,
        p50: Math.round(sorted[Math.floor(sorted.length / 2)]),
        samples: samples.map(Math.round),
      }),
    );
    await page.request.delete(`/api/v1/sessions/${id}`);
  });
}
