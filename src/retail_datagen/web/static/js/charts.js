// Small canvas charts drawn by hand (no library): a line chart and a bar chart.
// Each chart redraws itself when its box changes size and at the screen's pixel ratio.

const AXIS = "#8792a6";
const GRID = "#e8ecf2";
const TEXT = "#5f6b7d";
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

const observed = new WeakMap();
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const draw = observed.get(entry.target);
    if (draw) draw();
  }
});

function remember(canvas, draw) {
  if (!observed.has(canvas)) resizer.observe(canvas);
  observed.set(canvas, draw);
  draw();
}

function setup(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return { ctx, width, height };
}

/** About five round tick values from 0 to at least `max`. */
function ticks(max) {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  const out = [];
  for (let v = 0; v <= max + step * 0.001; v += step) out.push(v);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

function frame(ctx, width, height, yTicks, yFormat) {
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const labels = yTicks.map(yFormat);
  const left = Math.ceil(Math.max(...labels.map((l) => ctx.measureText(l).width))) + 12;
  const box = { left, right: width - 10, top: 10, bottom: height - 24 };
  const top = yTicks[yTicks.length - 1] || 1;
  const y = (v) => box.bottom - (v / top) * (box.bottom - box.top);
  yTicks.forEach((v, i) => {
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(box.left, Math.round(y(v)) + 0.5);
    ctx.lineTo(box.right, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = TEXT;
    ctx.fillText(labels[i], box.left - 6, y(v));
  });
  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(box.left, box.bottom + 0.5);
  ctx.lineTo(box.right, box.bottom + 0.5);
  ctx.stroke();
  return { box, y };
}

function empty(ctx, width, height, message) {
  ctx.fillStyle = TEXT;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(message, width / 2, height / 2);
}

function xLabels(ctx, box, labels, xAt) {
  ctx.fillStyle = TEXT;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const widest = Math.max(1, ...labels.map((l) => ctx.measureText(l).width)) + 10;
  const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor((box.right - box.left) / widest))));
  labels.forEach((label, i) => {
    if (i % every === 0 || (labels.length <= 2)) ctx.fillText(label, xAt(i), box.bottom + 6);
  });
}

/**
 * A line chart. points: [{label, value}], options: {color, yFormat, emptyText, fill}.
 */
export function lineChart(canvas, points, options = {}) {
  const { color = "#2457d6", yFormat = (v) => String(v), emptyText = "No data yet", fill = true } = options;
  remember(canvas, () => {
    const { ctx, width, height } = setup(canvas);
    if (!points.length) return empty(ctx, width, height, emptyText);
    const max = Math.max(...points.map((p) => p.value));
    const { box, y } = frame(ctx, width, height, ticks(max), yFormat);
    const span = Math.max(1, points.length - 1);
    const x = (i) => (points.length === 1 ? (box.left + box.right) / 2 : box.left + 6 + (i / span) * (box.right - box.left - 12));
    if (fill && points.length > 1) {
      const gradient = ctx.createLinearGradient(0, box.top, 0, box.bottom);
      gradient.addColorStop(0, `${color}33`);
      gradient.addColorStop(1, `${color}05`);
      ctx.fillStyle = gradient;
      ctx.beginPath();
      ctx.moveTo(x(0), box.bottom);
      points.forEach((p, i) => ctx.lineTo(x(i), y(p.value)));
      ctx.lineTo(x(points.length - 1), box.bottom);
      ctx.closePath();
      ctx.fill();
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(x(i), y(p.value)) : ctx.moveTo(x(i), y(p.value))));
    ctx.stroke();
    if (points.length <= 40) {
      ctx.fillStyle = color;
      points.forEach((p, i) => {
        ctx.beginPath();
        ctx.arc(x(i), y(p.value), 3, 0, Math.PI * 2);
        ctx.fill();
      });
    }
    xLabels(ctx, box, points.map((p) => p.label), x);
  });
}

/** A bar chart. bars: [{label, value}], options: {color, yFormat, emptyText}. */
export function barChart(canvas, bars, options = {}) {
  const { color = "#2f9e6e", yFormat = (v) => String(v), emptyText = "No data yet" } = options;
  remember(canvas, () => {
    const { ctx, width, height } = setup(canvas);
    const max = Math.max(0, ...bars.map((b) => b.value));
    if (!bars.length || max === 0) return empty(ctx, width, height, emptyText);
    const { box, y } = frame(ctx, width, height, ticks(max), yFormat);
    const slot = (box.right - box.left) / bars.length;
    const barWidth = Math.max(2, slot * 0.72);
    const x = (i) => box.left + slot * i + slot / 2;
    ctx.fillStyle = color;
    bars.forEach((b, i) => {
      const top = y(b.value);
      ctx.fillRect(x(i) - barWidth / 2, top, barWidth, box.bottom - top);
    });
    xLabels(ctx, box, bars.map((b) => b.label), x);
  });
}
