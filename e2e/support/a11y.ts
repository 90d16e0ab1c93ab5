/**
 * Accessibility, checked on every page the end-to-end specs visit: axe-core's default rules
 * (WCAG 2.x A and AA plus best practices) in the real page, with no exceptions, plus
 * label-content-name-mismatch (still marked experimental by axe: a control's name must contain its
 * visible text, so voice control users can say what they see). A violation fails
 * the spec with each rule, its help text and the elements it found, so the fix is in the message.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export async function expectAccessible(page: Page, where: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).options({ rules: { 'label-content-name-mismatch': { enabled: true } } }).analyze();
  const found = violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join('; ')}`).join('\n')}`,
  );
  expect(found, `accessibility of ${where}`).toEqual([]);
}
