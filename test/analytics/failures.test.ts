/** The most frequent FAIL messages per challenge: whitespace normalized, top N, in the lab's order. */
import { describe, expect, it } from 'vitest';
import { normalizeMessage, topFailures, TOP_FAILURES } from '../../lib/analytics/failures';

const LAB = [
  { index: 0, slug: 'one', title: 'One' },
  { index: 1, slug: 'two', title: 'Two' },
];

describe('normalizeMessage', () => {
  it('collapses runs of whitespace (tabs, newlines, CR) to one space and trims', () => {
    expect(normalizeMessage('  listener \t not\r\n running  ')).toBe('listener not running');
    expect(normalizeMessage('already clean')).toBe('already clean');
  });
  it('names an empty message', () => {
    expect(normalizeMessage('')).toBe('(no message)');
    expect(normalizeMessage(' \n ')).toBe('(no message)');
  });
});

describe('topFailures', () => {
  it('merges messages that differ only in whitespace and sums their counts', () => {
    const groups = topFailures(LAB, [
      { challenge: 'one', message: 'port 80  closed', count: 2 },
      { challenge: 'one', message: 'port 80 closed\n', count: 3 },
      { challenge: 'one', message: 'no such file', count: 1 },
    ]);
    expect(groups).toEqual([
      {
        index: 0,
        slug: 'one',
        title: 'One',
        total: 6,
        messages: [
          { message: 'port 80 closed', count: 5 },
          { message: 'no such file', count: 1 },
        ],
      },
    ]);
  });

  it('keeps the top N per challenge (ties alphabetically), totals over all, challenges in lab order', () => {
    const rows = [
      ...['e', 'd', 'c', 'b', 'a', 'f', 'g'].map((m, i) => ({ challenge: 'two', message: m, count: i < 5 ? 1 : 10 })),
      { challenge: 'one', message: 'only', count: 4 },
    ];
    const groups = topFailures(LAB, rows, 3);
    expect(groups.map((g) => g.slug)).toEqual(['one', 'two']);
    expect(groups[1].total).toBe(25);
    expect(groups[1].messages).toEqual([
      { message: 'f', count: 10 },
      { message: 'g', count: 10 },
      { message: 'a', count: 1 },
    ]);
    expect(topFailures(LAB, rows)[1].messages).toHaveLength(TOP_FAILURES);
    expect(topFailures(LAB, rows, 0)[1]).toMatchObject({ total: 25, messages: [] });
  });

  it('leaves out challenges without failures and lists a challenge the lab lost last, with no index', () => {
    const groups = topFailures(LAB, [
      { challenge: 'gone', message: 'x', count: 1 },
      { challenge: 'two', message: 'y', count: 1 },
    ]);
    expect(groups.map((g) => [g.index, g.slug, g.title])).toEqual([
      [1, 'two', 'Two'],
      [-1, 'gone', 'gone (no longer in the lab)'],
    ]);
  });
});
