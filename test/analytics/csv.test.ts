/** The analytics CSV exports: columns per report, RFC 4180 quoting, formulas defused, file names. */
import { describe, expect, it } from 'vitest';
import { analyticsCsv, csvFileName, REPORT_COLUMNS } from '../../lib/analytics/csv';
import type { LabAnalytics } from '../../lib/analytics/types';
import { tableCsv } from '../../lib/results/csv';

const DATA: LabAnalytics = {
  lab: { slug: 'net', title: 'Networks' },
  invite: { id: 'inv1', name: 'Monday, 9am' },
  from: '2026-11-11T00:00:00.000Z',
  to: '2026-12-10T15:30:00.000Z',
  sessions: 3,
  truncated: false,
  funnel: [
    { index: 0, slug: 'one', title: 'One, "the" first', reached: 3, completed: 2, skipped: 1 },
    { index: -1, slug: 'gone', title: 'gone (no longer in the lab)', reached: 1, completed: 0, skipped: 0 },
  ],
  times: [{ index: 0, slug: 'one', title: 'One', completed: 0, medianSeconds: null, p90Seconds: null }],
  failures: [
    {
      index: 0,
      slug: 'one',
      title: 'One',
      total: 4,
      messages: [
        { message: '=cmd|x listener not running', count: 3 },
        { message: 'line one\nline two', count: 1 },
      ],
    },
  ],
  quiz: [{ index: 1, slug: 'q', title: 'Q', submissions: 2, choices: [{ index: 0, text: '-1', correct: true, picks: 2 }] }],
  starts: [
    { day: '2026-12-09', starts: 0 },
    { day: '2026-12-10', starts: 3 },
  ],
};

const lines = (csv: string) => csv.split('\r\n');

describe('analyticsCsv', () => {
  it('starts every report with its header, ends every line with CRLF', () => {
    for (const report of ['funnel', 'times', 'failures', 'quiz', 'starts'] as const) {
      const csv = analyticsCsv(report, DATA);
      expect(lines(csv)[0]).toBe(REPORT_COLUMNS[report].join(','));
      expect(csv.endsWith('\r\n')).toBe(true);
    }
  });

  it('quotes commas and quotes, leaves an unknown index and a missing time empty', () => {
    expect(lines(analyticsCsv('funnel', DATA)).slice(1, 3)).toEqual(['0,one,"One, ""the"" first",3,2,1', ',gone,gone (no longer in the lab),1,0,0']);
    expect(lines(analyticsCsv('times', DATA))[1]).toBe('0,one,One,0,,');
  });

  it('defuses formulas and keeps multi-line messages in one quoted field', () => {
    const csv = analyticsCsv('failures', DATA);
    expect(lines(csv)[1]).toBe("0,one,One,1,'=cmd|x listener not running,3,4");
    expect(csv).toContain('0,one,One,2,"line one\nline two",1,4\r\n');
    expect(lines(analyticsCsv('quiz', DATA))[1]).toBe("1,q,Q,0,'-1,true,2,2");
  });

  it('writes one line per day, empty days too', () => {
    expect(analyticsCsv('starts', DATA)).toBe('day,starts\r\n2026-12-09,0\r\n2026-12-10,3\r\n');
  });

  it('writes only the header when there is nothing', () => {
    expect(analyticsCsv('failures', { ...DATA, failures: [] })).toBe(`${REPORT_COLUMNS.failures.join(',')}\r\n`);
  });
});

describe('tableCsv (lib/results/csv.ts, shared with results)', () => {
  it('quotes CR, LF, quotes and commas; writes null as empty and booleans as words', () => {
    expect(
      tableCsv(
        ['a', 'b'],
        [
          ['x\ry', null],
          [true, 'p"q'],
        ],
      ),
    ).toBe('a,b\r\n"x\ry",\r\ntrue,"p""q"\r\n');
    expect(tableCsv(['a'], [['@SUM(A1)'], ['+1'], ['\tx']])).toBe("a\r\n'@SUM(A1)\r\n'+1\r\n'\tx\r\n");
  });
});

describe('csvFileName', () => {
  it('names lab, report, invite and the range (the last day included), in safe characters', () => {
    expect(csvFileName('funnel', DATA)).toBe('labforge-net-funnel-inv1-2026-11-11_2026-12-10.csv');
    expect(csvFileName('starts', { ...DATA, invite: null, to: '2026-12-01T00:00:00.000Z' })).toBe('labforge-net-starts-2026-11-11_2026-11-30.csv');
  });
});
