import { esc } from '../interaction/view.js';

/** Server-rendered SVG charts for the auditor dashboard: no script, no external library. */

const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#f9a825', '#6a1b9a', '#00838f', '#ef6c00', '#455a64'];

export interface BarSeries {
  name: string;
  values: number[];
}

/** Stacked bars, one per category (day, rule …), with a legend. */
export function stackedBars(title: string, categories: string[], series: BarSeries[], opts: { width?: number; height?: number } = {}): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 260;
  const pad = { left: 44, right: 12, top: 28, bottom: 60 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const totals = categories.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const step = categories.length ? plotW / categories.length : plotW;
  const barW = Math.max(4, Math.min(48, step * 0.7));
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const bars: string[] = [];
  categories.forEach((c, i) => {
    let acc = 0;
    const x = pad.left + i * step + (step - barW) / 2;
    series.forEach((s, si) => {
      const v = s.values[i] ?? 0;
      if (!v) return;
      bars.push(`<rect class="bar" x="${x.toFixed(1)}" y="${y(acc + v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(acc) - y(acc + v)).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(c)} · ${esc(s.name)}: ${v}</title></rect>`);
      acc += v;
    });
    bars.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${height - pad.bottom + 14}" font-size="10" text-anchor="middle">${esc(c.length > 10 ? c.slice(5) : c)}</text>`);
  });
  const ticks = [0, Math.ceil(max / 2), max].map((v) => `<text x="${pad.left - 6}" y="${(y(v) + 3).toFixed(1)}" font-size="10" text-anchor="end">${v}</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e5eb"/>`);
  const legend = series.map((s, i) => `<g transform="translate(${pad.left + (i % 3) * 230},${height - pad.bottom + 30 + Math.floor(i / 3) * 14})"><rect width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="14" y="9" font-size="11">${esc(s.name)}</text></g>`);
  const empty = categories.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13" fill="#607d8b">Không có dữ liệu trong khoảng thời gian này</text>` : '';
  return `<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" width="100%">
<text x="${pad.left}" y="16" font-size="13" font-weight="600">${esc(title)}</text>${ticks.join('')}${bars.join('')}${legend.join('')}${empty}</svg></figure>`;
}
