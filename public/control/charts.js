// Small line charts on <canvas>, drawn by hand: a few series over the last minutes, a light grid,
// the newest value of each series in the legend. No library, no animation, no layout change.

export const PALETTE = ['#6aa8ff', '#3ecf8e', '#f0b429', '#c792ea', '#ff8f6b', '#5ad1d1', '#e06c9f', '#a3be8c'];

/**
 * @param {HTMLCanvasElement} canvas
 * @param {HTMLElement} legend
 * @param {{at: number[], series: {label: string, values: (number|null)[], color?: string}[], min?: number, max?: number, format?: (v: number) => string, windowMs?: number}} data
 */
export function drawChart(canvas, legend, data) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const format = data.format ?? shortNumber;
  const windowMs = data.windowMs ?? 5 * 60_000;
  const now = data.at.length ? Math.max(Date.now(), data.at[data.at.length - 1]) : Date.now();
  const from = now - windowMs;
  const series = data.series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));

  let lo = data.min ?? Number.POSITIVE_INFINITY;
  let hi = data.max ?? Number.NEGATIVE_INFINITY;
  if (data.max === undefined || data.min === undefined) {
    for (const s of series)
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i];
        if (v === null || v === undefined || !Number.isFinite(v) || data.at[i] < from) continue;
        if (data.min === undefined) lo = Math.min(lo, v);
        if (data.max === undefined) hi = Math.max(hi, v);
      }
  }
  if (!Number.isFinite(lo)) lo = 0;
  if (!Number.isFinite(hi)) hi = 1;
  if (data.min === undefined) lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  // Round steps (1, 2, 2.5, 5 × 10^n) from a round lower bound: labels such as −500 0 500 1000.
  let step = (hi - lo) / 4;
  if (data.max === undefined || data.min === undefined) {
    step = niceCeil(step);
    if (data.min === undefined) lo = Math.floor(lo / step) * step;
    if (data.max === undefined) hi = Math.max(lo + step, Math.ceil(hi / step) * step);
  }

  const left = 38;
  const right = 6;
  const top = 6;
  const bottom = 16;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (t) => left + ((t - from) / windowMs) * plotW;
  const y = (v) => top + plotH - ((v - lo) / (hi - lo)) * plotH;

  // grid and axis labels
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#59616f';
  ctx.strokeStyle = '#222833';
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (let i = 0; lo + i * step <= hi + step / 1000; i++) {
    const v = lo + i * step;
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(width - right, yy);
    ctx.stroke();
    ctx.fillText(data.format ? format(v) : tick(v, step), left - 5, yy);
  }
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = 'center';
  const minutes = Math.round(windowMs / 60_000);
  for (let m = minutes; m >= 0; m--) {
    const xx = x(now - m * 60_000);
    ctx.fillText(m === 0 ? 'now' : `−${m}m`, Math.min(Math.max(xx, left + 10), width - right - 10), height - 3);
  }

  // lines
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      const t = data.at[i];
      if (v === null || v === undefined || !Number.isFinite(v) || t < from) {
        pen = false;
        continue;
      }
      const px = x(t);
      const py = y(Math.min(Math.max(v, lo), hi));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }

  // legend: one entry per series with its newest value (kept in place so nothing jumps)
  const entries = series.map((s) => {
    const last = [...s.values].reverse().find((v) => v !== null && v !== undefined && Number.isFinite(v));
    return `<span><i style="background:${s.color}"></i>${escapeHtml(s.label)} ${last === undefined ? '–' : escapeHtml(format(last))}</span>`;
  });
  const html = entries.length ? entries.join('') : '<span>no data yet</span>';
  if (legend.innerHTML !== html) legend.innerHTML = html;
}

/** An axis label with as many decimals as the step needs. */
function tick(v, step) {
  if (step >= 1 || v === 0) return shortNumber(v);
  const decimals = Math.min(3, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

function niceCeil(v) {
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

export function shortNumber(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 10 || v === 0) return v.toFixed(0);
  return v.toFixed(1);
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
