/**
 * The load bench's figures against N as a hand-written SVG (no browser, no chart library):
 * four panels, each a line per series with its points labelled, N on a linear x axis.
 */
import type { LevelSummary } from './summary';

interface Series {
  name: string;
  color: string;
  values: Array<number | null>;
}
interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const W = 920;
const H = 620;
const PANEL_W = 420;
const PANEL_H = 230;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 100 ? Math.round(v).toString() : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function panel(p: Panel, ns: number[], x0: number, y0: number): string {
  const left = 56;
  const right = 16;
  const top = 34;
  const bottom = 34;
  const w = PANEL_W - left - right;
  const h = PANEL_H - top - bottom;
  const all = p.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const ymax = all.length ? Math.max(...all) * 1.15 || 1 : 1;
  const nmin = Math.min(...ns);
  const nmax = Math.max(...ns);
  const x = (n: number) => left + (nmax === nmin ? w / 2 : ((n - nmin) / (nmax - nmin)) * w);
  const y = (v: number) => top + h - (v / ymax) * h;
  const out: string[] = [`<g transform="translate(${x0},${y0})">`];
  out.push(`<text x="${left}" y="18" font-size="14" font-weight="600">${esc(p.title)} <tspan font-weight="400" fill="#666">(${esc(p.unit)})</tspan></text>`);
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (ymax / 4) * i;
    out.push(`<line x1="${left}" x2="${left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end" fill="#666">${fmt(v)}</text>`);
  }
  for (const n of ns) out.push(`<text x="${x(n)}" y="${top + h + 16}" font-size="11" text-anchor="middle" fill="#666">N=${n}</text>`);
  p.series.forEach((s, si) => {
    const pts = ns.map((n, i) => [n, s.values[i]] as const).filter((pt): pt is readonly [number, number] => pt[1] !== null && Number.isFinite(pt[1]));
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([n, v]) => `${x(n)},${y(v)}`).join(' ')}"/>`);
    for (const [n, v] of pts) {
      out.push(`<circle cx="${x(n)}" cy="${y(v)}" r="3.5" fill="${s.color}"/>`);
      out.push(`<text x="${x(n) + 5}" y="${y(v) - 6}" font-size="10" fill="${s.color}">${fmt(v)}</text>`);
    }
    out.push(`<rect x="${left + 8 + si * 105}" y="${top + 6}" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${left + 22 + si * 105}" y="${top + 15}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

export function loadSvg(levels: LevelSummary[], title: string): string {
  const ns = levels.map((l) => l.learners);
  const sec = (v: number | null) => (v === null ? null : v / 1000);
  const panels: Panel[] = [
    {
      title: 'Start to first prompt',
      unit: 's',
      series: [
        { name: 'p50', color: '#2563eb', values: levels.map((l) => sec(l.ms.startToPrompt.p50)) },
        { name: 'p99', color: '#dc2626', values: levels.map((l) => sec(l.ms.startToPrompt.p99)) },
        // The engine alone starting that many containers: what no platform on this machine can beat.
        { name: 'engine floor', color: '#6b7280', values: levels.map((l) => sec(l.engineFloor?.allRunningMs ?? null)) },
      ],
    },
    {
      title: 'Keystroke echo',
      unit: 'ms',
      series: [
        { name: 'p50', color: '#2563eb', values: levels.map((l) => l.ms.echo.p50) },
        { name: 'p99', color: '#dc2626', values: levels.map((l) => l.ms.echo.p99) },
      ],
    },
    {
      title: 'Check, all pressed at once',
      unit: 's',
      series: [
        { name: 'p50', color: '#2563eb', values: levels.map((l) => sec(l.ms.check.p50)) },
        { name: 'p99', color: '#dc2626', values: levels.map((l) => sec(l.ms.check.p99)) },
      ],
    },
    {
      title: 'Memory',
      unit: 'MiB, peak',
      series: [
        { name: 'server RSS', color: '#16a34a', values: levels.map((l) => l.server.rssPeakMiB) },
        { name: 'containers', color: '#9333ea', values: levels.map((l) => l.engine.containersMemPeakMiB) },
        { name: 'dockerd+containerd', color: '#ea580c', values: levels.map((l) => l.engine.engineRssPeakMiB) },
      ],
    },
  ];
  const body = panels.map((p, i) => panel(p, ns, 20 + (i % 2) * (PANEL_W + 40), 50 + Math.floor(i / 2) * (PANEL_H + 20)));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="20" y="30" font-size="17" font-weight="600">${esc(title)}</text>`,
    ...body,
    `<text x="20" y="${H - 12}" font-size="11" fill="#666">npm run bench -- load: N learners start, type, run a command and press Check at the same time (loopback, real server and client).</text>`,
    '</svg>',
    '',
  ].join('\n');
}
