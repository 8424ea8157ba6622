/**
 * A DET curve as a standalone SVG: false-reject rate (%) against false accepts per hour on a log axis
 * (0 FA/h is drawn at the axis' left edge), one polyline per curve, each model's operating point circled.
 */
import type { DetPoint } from './det.ts';

export interface DetSeries {
  label: string;
  points: readonly DetPoint[];
  /** The threshold the model uses; its point is marked. */
  threshold?: number;
}

const WIDTH = 640;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 20, top: 36, bottom: 52 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}

export function detSvg(series: readonly DetSeries[], title = 'DET curve'): string {
  const all = series.flatMap((s) => s.points);
  const positiveFa = all.map((p) => p.fa_per_hour).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.1, ...positiveFa)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...positiveFa)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (fa: number) =>
    MARGIN.left +
    (plotW * (Math.log10(Math.max(fa, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const y = (frr: number) => MARGIN.top + plotH * (1 - frr);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const v = 10 ** e;
    parts.push(
      `<line x1="${x(v).toFixed(1)}" y1="${MARGIN.top}" x2="${x(v).toFixed(1)}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`,
      `<text x="${x(v).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${v < 1 ? v.toFixed(-e) : v.toFixed(0)}</text>`,
    );
  }
  for (let f = 0; f <= 1.0001; f += 0.2) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y(f).toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${y(f).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${(y(f) + 4).toFixed(1)}" text-anchor="end">${Math.round(f * 100)}%</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">false accepts per hour (log; 0 at the left edge)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">false-reject rate</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.threshold - b.threshold);
    const path = pts.map((p) => `${x(p.fa_per_hour).toFixed(1)},${y(p.frr).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`);
    if (s.threshold !== undefined && pts.length > 0) {
      const at = pts.reduce((a, b) =>
        Math.abs(b.threshold - s.threshold!) < Math.abs(a.threshold - s.threshold!) ? b : a,
      );
      parts.push(
        `<circle cx="${x(at.fa_per_hour).toFixed(1)}" cy="${y(at.frr).toFixed(1)}" r="5" fill="none" stroke="${color}" stroke-width="2"/>`,
      );
    }
    const ly = MARGIN.top + 16 + 18 * i;
    parts.push(
      `<line x1="${MARGIN.left + plotW - 190}" y1="${ly - 4}" x2="${MARGIN.left + plotW - 170}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + plotW - 164}" y="${ly}">${escapeXml(s.label)}${s.threshold !== undefined ? ` (○ t=${s.threshold.toFixed(2)})` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
