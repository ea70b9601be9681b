// Dashboard tab: row counts, daily sales and traffic-by-hour charts, the stream's recent events.
import { api, el, fmt, toast } from "./api.js";
import { barChart, lineChart } from "./charts.js";

const $ = (id) => document.getElementById(id);
const compactInt = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const compactMoney = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });

// A headline figure in full when it fits its card, else compact ("$12.3B", the full value
// in the tooltip), and wrapped only when even that does not fit (very narrow screens).
function showFigure(node, full, compact) {
  node.title = full;
  node.classList.remove("wrap");
  node.textContent = full;
  if (node.scrollWidth > node.clientWidth) node.textContent = compact;
  if (node.scrollWidth > node.clientWidth) node.classList.add("wrap");
}

export function eventLine(event) {
  const payload = event.payload || {};
  const when = payload.event_ts || payload.EventTS || event.ingest_timestamp || "";
  const key = event.partition_key ? `${event.partition_key} ` : "";
  const detail = `${key}${String(when).replace("T", " ").slice(0, 19)}`;
  return el("li", {}, el("span", { class: "etype", text: event.event_type || "event" }), el("span", { class: "edetail", text: detail }));
}

export function renderEvents(list, events, emptyText) {
  list.replaceChildren(...(events.length ? events.slice().reverse().map(eventLine) : [el("li", { class: "empty", text: emptyText })]));
}

async function load() {
  let data;
  try {
    data = await api("/api/dashboard");
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  const sum = (kind) => data.counts.filter((c) => c.kind === kind).reduce((s, c) => s + (c.rows || 0), 0);
  const receipts = data.daily_sales.reduce((s, d) => s + d.receipts, 0);
  const sales = data.daily_sales.reduce((s, d) => s + d.sales, 0);
  for (const [id, n] of [["stat-dims", sum("dimension")], ["stat-facts", sum("fact")], ["stat-receipts", receipts]]) {
    showFigure($(id), fmt.int(n), compactInt.format(n));
  }
  showFigure($("stat-sales"), fmt.money(sales), compactMoney.format(sales));

  const days = data.daily_sales.map((d) => ({ label: d.date.slice(5), value: d.sales }));
  lineChart($("chart-sales"), days, { yFormat: fmt.compactMoney, emptyText: "No sales yet — generate facts on the Data tab" });
  $("chart-sales").setAttribute("aria-label", days.length
    ? `Daily sales over ${days.length} days, total ${fmt.money(sales)}`
    : "Daily sales chart: no data yet");

  const hours = data.traffic_by_hour.map((h) => ({ label: String(h.hour), value: h.visitors }));
  barChart($("chart-traffic"), hours, { yFormat: (v) => fmt.int(Math.round(v)), emptyText: "No foot traffic yet" });
  const peak = hours.reduce((best, h) => (h.value > best.value ? h : best), { label: "–", value: 0 });
  $("chart-traffic").setAttribute("aria-label", peak.value ? `Foot traffic by hour of day, busiest hour ${peak.label}:00` : "Traffic by hour chart: no data yet");

  $("dash-counts").tBodies[0].replaceChildren(...data.counts.map((c) =>
    el("tr", {}, el("td", { text: c.name }), el("td", { class: "num", text: fmt.int(c.rows) }))));
  $("dash-events-note").textContent = data.streaming ? "Latest events from the running stream." : "Shown while the streamer runs.";
  renderEvents($("dash-events"), data.recent_events, "No recent events.");
}

export function init() {
  $("dash-refresh").addEventListener("click", load);
}

export function show() {
  load();
}
