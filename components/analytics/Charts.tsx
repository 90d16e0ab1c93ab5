'use client';
/**
 * The analytics charts (recharts), drawn in the browser from data the page computed on the
 * server (lib/analytics). Each sizes itself to its figure's width (`responsive`); animations
 * are off, so what a test or a screenshot sees is the final chart.
 */
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import type { DayCount, FailureGroup, FunnelRow, QuizDistribution, TimeRow } from '@/lib/analytics/types';
import { clip, duration, position } from './format';

const COLORS = {
  reached: 'var(--accent-2)',
  completed: 'var(--ok)',
  median: 'var(--accent)',
  p90: 'var(--warn)',
  fail: 'var(--bad)',
  other: 'var(--accent-2)',
};
const AXIS = { stroke: 'var(--line)', tick: { fill: 'var(--muted)', fontSize: 12 } };
const GRID = <CartesianGrid stroke="var(--line)" strokeDasharray="3 3" />;
const TOOLTIP = {
  contentStyle: { background: 'var(--panel-2)', border: '1px solid var(--line)', borderRadius: 6, color: 'var(--text)' },
  labelStyle: { color: 'var(--text)' },
  itemStyle: { color: 'var(--text)' },
  cursor: { fill: 'rgba(124, 156, 255, 0.08)' },
  /** One key for every item: the (stable) sort keeps the order the series are drawn in, not their names'. */
  itemSorter: () => 0,
};
/** Series in the order they are drawn (recharts sorts legends by name unless told otherwise). */
const LEGEND = <Legend itemSorter={null} wrapperStyle={{ color: 'var(--muted)', fontSize: 13 }} />;
/** Bar charts laid out sideways (one row per message or choice): this tall per row. */
const ROW_PX = 30;

const size = (height: number) => ({ width: '100%', height });
/** Challenge labels under a column chart: shorter the more columns share the width (the tooltip has the full title). */
const columnLabel = (index: number, title: string, columns: number) =>
  `${position(index)}. ${clip(title, Math.min(24, Math.max(6, Math.floor(110 / columns))))}`;
/** The tooltip's heading: the full text kept on the datum, not the clipped axis label. */
const fullLabel = (_: unknown, payload?: readonly { payload?: { full?: string } }[]) => payload?.[0]?.payload?.full ?? '';

export function FunnelChart({ rows }: { rows: FunnelRow[] }) {
  const data = rows.map((r) => ({ name: columnLabel(r.index, r.title, rows.length), full: r.title, reached: r.reached, completed: r.completed }));
  return (
    <BarChart responsive style={size(300)} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer>
      {GRID}
      <XAxis dataKey="name" {...AXIS} interval={0} />
      <YAxis allowDecimals={false} {...AXIS} />
      <Tooltip {...TOOLTIP} labelFormatter={fullLabel} />
      {LEGEND}
      <Bar dataKey="reached" name="Reached" fill={COLORS.reached} isAnimationActive={false} />
      <Bar dataKey="completed" name="Completed" fill={COLORS.completed} isAnimationActive={false} />
    </BarChart>
  );
}

export function TimesChart({ rows }: { rows: TimeRow[] }) {
  const minutes = (s: number | null) => (s === null ? null : Math.round((s / 60) * 10) / 10);
  const data = rows.map((r) => ({
    name: columnLabel(r.index, r.title, rows.length),
    full: r.title,
    median: minutes(r.medianSeconds),
    p90: minutes(r.p90Seconds),
  }));
  return (
    <BarChart responsive style={size(300)} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer>
      {GRID}
      <XAxis dataKey="name" {...AXIS} interval={0} />
      <YAxis {...AXIS} unit=" min" width={70} />
      <Tooltip {...TOOLTIP} labelFormatter={fullLabel} formatter={(v) => (typeof v === 'number' ? duration(v * 60) : '–')} />
      {LEGEND}
      <Bar dataKey="median" name="Median" fill={COLORS.median} isAnimationActive={false} />
      <Bar dataKey="p90" name="90th percentile" fill={COLORS.p90} isAnimationActive={false} />
    </BarChart>
  );
}

export function FailuresChart({ groups }: { groups: FailureGroup[] }) {
  const data = groups.flatMap((g) =>
    g.messages.map((m) => ({ name: `${position(g.index)}. ${clip(m.message, 44)}`, full: `${g.title}: ${m.message}`, count: m.count })),
  );
  return (
    <BarChart
      responsive
      layout="vertical"
      style={size(data.length * ROW_PX + 60)}
      data={data}
      margin={{ top: 8, right: 24, bottom: 8, left: 8 }}
      accessibilityLayer
    >
      {GRID}
      <XAxis type="number" allowDecimals={false} {...AXIS} />
      <YAxis type="category" dataKey="name" width={320} {...AXIS} interval={0} />
      <Tooltip {...TOOLTIP} labelFormatter={fullLabel} />
      <Bar dataKey="count" name="Failed checks" fill={COLORS.fail} isAnimationActive={false} />
    </BarChart>
  );
}

/** One chart per quiz: picks per choice, right answers in green. */
export function QuizChart({ quiz }: { quiz: QuizDistribution }) {
  const data = quiz.choices.map((c) => ({
    name: `${String.fromCharCode(65 + (c.index % 26))}. ${clip(c.text, 40)}`,
    full: c.text,
    right: c.correct ? c.picks : 0,
    other: c.correct ? 0 : c.picks,
  }));
  return (
    <BarChart
      responsive
      layout="vertical"
      style={size(data.length * ROW_PX + 80)}
      data={data}
      margin={{ top: 8, right: 24, bottom: 8, left: 8 }}
      accessibilityLayer
    >
      {GRID}
      <XAxis type="number" allowDecimals={false} {...AXIS} />
      <YAxis type="category" dataKey="name" width={300} {...AXIS} interval={0} />
      <Tooltip {...TOOLTIP} labelFormatter={fullLabel} />
      {LEGEND}
      <Bar dataKey="right" name="Right answer" stackId="picks" fill={COLORS.completed} isAnimationActive={false} />
      <Bar dataKey="other" name="Other choice" stackId="picks" fill={COLORS.other} isAnimationActive={false} />
    </BarChart>
  );
}

export function StartsChart({ days }: { days: DayCount[] }) {
  const data = days.map((d) => ({ name: d.day.slice(5), full: d.day, starts: d.starts }));
  return (
    <BarChart responsive style={size(240)} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }} accessibilityLayer>
      {GRID}
      <XAxis dataKey="name" {...AXIS} minTickGap={12} />
      <YAxis allowDecimals={false} {...AXIS} />
      <Tooltip {...TOOLTIP} labelFormatter={fullLabel} />
      <Bar dataKey="starts" name="Sessions started" fill={COLORS.reached} isAnimationActive={false} />
    </BarChart>
  );
}
