// p99 latency against offered load, one line per server, as a PNG: drawn as SVG and rendered by
// Debian's Chromium (already used by the tests), so no plotting library is needed.
import { chromium } from 'playwright-core';

const COLORS = ['#2f6fed', '#0f9d58', '#e8710a', '#c0362c', '#7b1fa2', '#00838f', '#6d4c41', '#c2185b'];
const W = 900;
const H = 520;
const M = { left: 80, right: 30, top: 50, bottom: 70 };

export async function plotSweep(series, file) {
  const xs = series.flatMap((s) => s.points.map((p) => p.offeredDeliveriesPerSec));
  const ys = series.flatMap((s) => s.points.map((p) => p.p99Ms));
  const xMax = Math.max(...xs, 1);
  const yMax = Math.min(Math.max(...ys, 1), 200);
  const x = (v) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v) => H - M.bottom - (Math.min(v, yMax) / yMax) * (H - M.top - M.bottom);
  const ticks = (max) => Array.from({ length: 6 }, (_, i) => (max * i) / 5);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${W / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">p99 delivery latency vs offered load</text>
  ${Math.max(...ys) > yMax ? `<text x="${W - M.right}" y="${M.top - 8}" text-anchor="end" fill="#666">points above ${yMax} ms are drawn at ${yMax} ms</text>` : ''}
  ${ticks(xMax)
    .map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/><text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${Math.round(t / 1000)}k</text>`,
    )
    .join('')}
  ${ticks(yMax)
    .map(
      (t) =>
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${M.left - 8}" y="${y(t) + 4}" text-anchor="end">${t.toFixed(0)}</text>`,
    )
    .join('')}
  <text x="${W / 2}" y="${H - 25}" text-anchor="middle">offered deliveries per second (messages/s × clients)</text>
  <text transform="translate(22 ${H / 2}) rotate(-90)" text-anchor="middle">p99 latency (ms)</text>
  ${series
    .map((s, i) => {
      const pts = s.points.map((p) => `${x(p.offeredDeliveriesPerSec).toFixed(1)},${y(p.p99Ms).toFixed(1)}`).join(' ');
      const c = COLORS[i % COLORS.length];
      return `<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2.5"/>${s.points.map((p) => `<circle cx="${x(p.offeredDeliveriesPerSec)}" cy="${y(p.p99Ms)}" r="3.5" fill="${c}"/>`).join('')}
      <rect x="${M.left + 15}" y="${M.top + 10 + i * 20}" width="14" height="4" fill="${c}"/><text x="${M.left + 35}" y="${M.top + 16 + i * 20}">${s.label}</text>`;
    })
    .join('')}
</svg>`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.setContent(svg);
    await page.screenshot({ path: file });
  } finally {
    await browser.close();
  }
}
