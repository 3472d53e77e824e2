/**
 * A hand-written SVG chart, no dependency: yearly cost (ours, the SES floor, the per-unit alternative) and wall
 * time against roster size, both on log–log axes with decade ticks.
 */

export interface ChartPoint {
  roster: string;
  units: number;
  ourCost: number;
  floor: number;
  alternativeCost: number;
  wallSeconds: number;
}

interface Series {
  label: string;
  color: string;
  dash?: string;
  values: { x: number; y: number; roster: string }[];
}

const WIDTH = 880;
const HEIGHT = 340;
const PANEL = { w: 340, h: 220, top: 50, lefts: [80, 520] as const };

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Decade bounds that contain every value, at least one decade wide. */
function decades(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return [0, 1];
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.ceil(Math.log10(Math.max(...positive)));
  return [lo, Math.max(hi, lo + 1)];
}

function tickLabel(exp: number, unit: 'usd' | 'count' | 'seconds'): string {
  const v = 10 ** exp;
  const n =
    v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : v >= 1 ? `${v}` : `${Number(v.toPrecision(1))}`;
  return unit === 'usd' ? `$${n}` : unit === 'seconds' ? `${n} s` : n;
}

function fmt(v: number, unit: 'usd' | 'seconds'): string {
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
  return unit === 'usd' ? `$${s}` : `${s} s`;
}

function panel(
  left: number,
  title: string,
  series: Series[],
  xExp: [number, number],
  unit: 'usd' | 'seconds',
): string {
  const { w, h, top } = PANEL;
  const yExp = decades(series.flatMap((s) => s.values.map((v) => v.y)));
  const sx = (x: number) => left + ((Math.log10(x) - xExp[0]) / (xExp[1] - xExp[0])) * w;
  const sy = (y: number) => top + h - ((Math.log10(y) - yExp[0]) / (yExp[1] - yExp[0])) * h;
  const out: string[] = [];
  out.push(
    `<text x="${left + w / 2}" y="${top - 18}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
  );
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let e = xExp[0]; e <= xExp[1]; e++) {
    const x = sx(10 ** e);
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + h}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${top + h + 16}" text-anchor="middle">${tickLabel(e, 'count')}</text>`);
  }
  for (let e = yExp[0]; e <= yExp[1]; e++) {
    const y = sy(10 ** e);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + w}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${tickLabel(e, unit)}</text>`);
  }
  out.push(
    `<text x="${left + w / 2}" y="${top + h + 34}" text-anchor="middle">units in the roster (log)</text>`,
  );
  for (const [i, s] of series.entries()) {
    const pts = s.values.filter((v) => v.x > 0 && v.y > 0).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
        .join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      if (i === 0)
        out.push(
          `<text x="${(sx(p.x) + 6).toFixed(1)}" y="${(sy(p.y) - 6).toFixed(1)}" fill="${s.color}">${escape(
            `${p.roster}: ${fmt(p.y, unit)}`,
          )}</text>`,
        );
    }
    const ly = top + 14 + i * 16;
    out.push(
      `<line x1="${left + 8}" y1="${ly - 4}" x2="${left + 28}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ''
      }/>`,
    );
    out.push(`<text x="${left + 32}" y="${ly}">${escape(s.label)}</text>`);
  }
  return out.join('\n');
}

export function renderChart(points: readonly ChartPoint[], caption: string): string {
  const xExp = decades(points.map((p) => p.units));
  const cost: Series[] = [
    {
      label: 'our yearly bill',
      color: '#1f77b4',
      values: points.map((p) => ({ x: p.units, y: p.ourCost, roster: p.roster })),
    },
    {
      label: 'SES floor (emails only)',
      color: '#2ca02c',
      dash: '6 4',
      values: points.map((p) => ({ x: p.units, y: p.floor, roster: p.roster })),
    },
    {
      label: 'per-unit alternative',
      color: '#d62728',
      dash: '2 3',
      values: points.map((p) => ({ x: p.units, y: p.alternativeCost, roster: p.roster })),
    },
  ];
  const wall: Series[] = [
    {
      label: 'child process wall time, one simulated year',
      color: '#9467bd',
      values: points.map((p) => ({ x: p.units, y: p.wallSeconds, roster: p.roster })),
    },
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    panel(PANEL.lefts[0], 'Yearly AWS cost (USD, log)', cost, xExp, 'usd'),
    panel(PANEL.lefts[1], 'Wall time (seconds, log)', wall, xExp, 'seconds'),
    `<text x="${WIDTH / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#555">${escape(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
