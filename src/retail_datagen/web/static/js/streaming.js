// Streaming tab: start/stop, sink, pacing, event filter, live statistics pushed by the server
// (events-per-second chart), recent events, dead letters with replay, disruptions.
import { api, busy, el, fmt, formValues, toast } from "./api.js";
import { lineChart } from "./charts.js";
import { renderEvents } from "./dashboard.js";

const $ = (id) => document.getElementById(id);
const HISTORY = 60;
let live = null;
let available = true;
const rates = [];

function setRunning(status) {
  const running = Boolean(status && status.running);
  const badge = $("stream-badge");
  badge.textContent = running ? "running" : status && status.error ? "failed" : "stopped";
  badge.className = `badge ${running ? "running" : status && status.error ? "failed" : ""}`;
  $("stream-start").disabled = running || !available;
  $("stream-stop").disabled = !running;
  if (status && status.error) $("stream-message").textContent = status.error;
}

function renderStats(stats) {
  $("st-sent").textContent = fmt.int(stats.events_sent || 0);
  $("st-failed").textContent = fmt.int(stats.events_failed || 0);
  $("st-eps").textContent = (stats.events_per_second || 0).toFixed(1);
  $("st-dlq").textContent = fmt.int(stats.dlq_size || 0);
  $("st-circuit").textContent = stats.circuit_state || "–";
}

function pushRate(value) {
  rates.push({ label: new Date().toLocaleTimeString([], { minute: "2-digit", second: "2-digit" }), value });
  while (rates.length > HISTORY) rates.shift();
  drawRates();
}

function drawRates() {
  lineChart($("chart-eps"), rates, { color: "#2f9e6e", yFormat: (v) => (v >= 100 ? fmt.int(Math.round(v)) : String(Math.round(v * 10) / 10)), emptyText: "Start a stream to see its rate" });
}

function connectLive() {
  if (live || !available) return;
  live = new EventSource("/api/stream/live?events=15");
  live.addEventListener("stats", (event) => {
    const data = JSON.parse(event.data);
    setRunning(data.status);
    renderStats(data.statistics || {});
    if (data.status.running || rates.length) pushRate((data.statistics || {}).events_per_second || 0);
    renderEvents($("stream-events"), data.events || [], data.status.running ? "Waiting for events…" : "No recent events.");
  });
}

function disconnectLive() {
  if (live) live.close();
  live = null;
}

// ------------------------------------------------------------------ dead letters, disruptions
async function loadDeadLetters() {
  try {
    const data = await api("/api/dead-letters?limit=50");
    $("dlq-count").textContent = `${fmt.int(data.count)} dead letter${data.count === 1 ? "" : "s"}`;
    $("dlq-table").tBodies[0].replaceChildren(...(data.items.length
      ? data.items.map((d) => el("tr", {}, el("td", { text: String(d.id || d.trace_id || "").slice(0, 16) }), el("td", { text: d.event_type || "" }), el("td", { class: "small", text: d.error || d.reason || "" })))
      : [el("tr", {}, el("td", { colspan: "3", class: "muted", text: "The dead-letter queue is empty." }))]));
  } catch (err) {
    $("dlq-count").textContent = err.message;
  }
}

async function loadDisruptions() {
  try {
    const data = await api("/api/disruptions");
    $("disruption-table").tBodies[0].replaceChildren(...(data.disruptions.length
      ? data.disruptions.map((d) => el("tr", {},
          el("td", { text: d.kind }),
          el("td", { text: d.target_type === "network" ? "network" : `${d.target_type} ${d.target_id}` }),
          el("td", { text: d.start.replace("T", " ").slice(0, 16) }),
          el("td", { text: d.end.replace("T", " ").slice(0, 16) }),
          el("td", {}, el("button", { class: "link", type: "button", "aria-label": `Remove disruption ${d.id}`, onclick: (e) => busy(e.target, async () => { await api(`/api/disruptions/${encodeURIComponent(d.id)}`, { method: "DELETE" }); loadDisruptions(); }) }, "Remove"))))
      : [el("tr", {}, el("td", { colspan: "5", class: "muted", text: "No disruptions." }))]));
  } catch (err) {
    $("disruption-error").hidden = false;
    $("disruption-error").textContent = err.message;
  }
}

// "YYYY-MM-DDTHH:MM" of a Date's fields, read as they are (simulated local time, no zone)
function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}

// New disruptions default to the simulated clock (where the generated data ends), not to
// today: a disruption only changes data that is still to be generated or streamed.
async function defaultDisruptionTimes() {
  const form = $("form-disruption");
  if (form.dataset.edited) return;
  let clock;
  try {
    clock = (await api("/api/clock")).simulated_now;
  } catch (err) {
    return; // the inputs stay empty (required): the user picks the times
  }
  const start = new Date(`${clock.slice(0, 16)}Z`); // a zone only to do the arithmetic
  form.elements.start.value = localInput(start);
  form.elements.end.value = localInput(new Date(start.getTime() + 6 * 3600e3));
  $("disruption-clock").textContent = `Simulated clock: ${localInput(start).replace("T", " ")}`;
}

// ------------------------------------------------------------------ wiring
function syncMode() {
  // the present is only reached in real time: that choice fixes the mode (speed 1 = live)
  const fromNow = $("stream-from-now").checked;
  if (fromNow && $("stream-mode").value !== "speed") {
    $("stream-mode").value = "speed";
    document.querySelector('#form-stream [name="speed"]').value = "1";
  }
  $("stream-mode").disabled = fromNow;
  const mode = $("stream-mode").value;
  for (const label of document.querySelectorAll("#form-stream [data-mode]")) label.hidden = label.dataset.mode !== mode;
}

export async function init() {
  $("stream-sink").value = "file:stream/events.jsonl"; // relative to the data folder
  $("stream-mode").addEventListener("change", syncMode);
  $("stream-from-now").addEventListener("change", syncMode);
  syncMode();
  $("disruption-kind").addEventListener("change", syncTargets);
  $("disruption-target-type").addEventListener("change", syncTargets);
  syncTargets();
  for (const name of ["start", "end"]) {
    $("form-disruption").elements[name].addEventListener("input", () => { $("form-disruption").dataset.edited = "1"; });
  }

  try {
    const types = await api("/api/stream/event-types");
    $("event-types").replaceChildren(...types.event_types.map((t) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "event_type", value: t }), t)));
  } catch (err) {
    available = err.status !== 503;
    $("stream-unavailable").hidden = available;
    $("stream-unavailable").textContent = err.message;
    for (const control of $("form-stream").elements) control.disabled = !available;
  }

  $("form-stream").addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const body = { sink: values.sink };
    const mode = $("stream-mode").value;
    if ($("stream-from-now").checked) body.from_now = true;
    if (mode === "rate" && values.rate) body.rate = values.rate;
    if (mode === "burst") { body.burst = values.burst; body.interval_ms = values.interval_ms; }
    if (mode === "speed" && values.speed) body.speed = values.speed;
    if (values.duration) body.duration = values.duration;
    const types = [...document.querySelectorAll('#event-types input:checked')].map((i) => i.value);
    if (types.length) body.event_types = types;
    busy(event.submitter, async () => {
      $("stream-message").textContent = "";
      rates.length = 0;
      const status = await api("/api/stream/start", { method: "POST", body });
      setRunning(status);
      toast("stream started", "ok");
      connectLive();
    });
  });
  $("stream-stop").addEventListener("click", (event) => busy(event.target, async () => {
    setRunning(await api("/api/stream/stop", { method: "POST" }));
    toast("stream stopped");
    loadDeadLetters();
  }));
  $("stream-test").addEventListener("click", (event) => busy(event.target, async () => {
    const result = await api("/api/connection/test", { method: "POST", body: { sink: $("stream-sink").value } });
    $("stream-message").textContent = result.ok ? `✓ ${result.sink} opened and closed in ${result.seconds.toFixed(2)} s` : `✗ ${result.error}`;
  }));
  $("dlq-refresh").addEventListener("click", loadDeadLetters);
  $("dlq-replay").addEventListener("click", (event) => busy(event.target, async () => {
    const result = await api("/api/dead-letters/replay", { method: "POST", body: { sink: $("stream-sink").value } });
    toast(`replayed: ${JSON.stringify(result.result)}`, "ok");
    loadDeadLetters();
  }));
  $("form-disruption").addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const body = { kind: values.kind, target_type: values.target_type, start: values.start, end: values.end, severity: values.severity ?? 0.5 };
    if (values.target_type !== "network") body.target_id = values.target_id;
    busy(event.submitter, async () => {
      $("disruption-error").hidden = true;
      try {
        await api("/api/disruptions", { method: "POST", body });
        loadDisruptions();
      } catch (err) {
        $("disruption-error").hidden = false;
        $("disruption-error").textContent = err.message;
      }
    });
  });
  $("disruption-clear").addEventListener("click", (event) => {
    if (!window.confirm("Remove every disruption? This cannot be undone.")) return;
    busy(event.target, async () => {
      const result = await api("/api/disruptions/clear", { method: "POST", body: { confirm: "DELETE ALL DISRUPTIONS" } });
      toast(`removed ${result.removed} disruption(s)`, "ok");
      loadDisruptions();
    });
  });
}

// which targets each kind of disruption may have (the server checks it too)
const TARGETS = {
  dc_outage: ["dc"],
  inventory_shortage: ["product", "store", "dc"],
  truck_breakdown: ["truck", "dc"],
  weather_delay: ["store", "dc", "network"],
  supplier_delay: ["dc", "product", "network"],
};

function syncTargets() {
  const allowed = TARGETS[$("disruption-kind").value] || [];
  const select = $("disruption-target-type");
  for (const option of select.options) option.disabled = !allowed.includes(option.value);
  if (!allowed.includes(select.value)) select.value = allowed[0];
  $("disruption-target-id").disabled = select.value === "network";
}

export function show() {
  defaultDisruptionTimes();
  drawRates();
  connectLive();
  if (available) loadDeadLetters();
  loadDisruptions();
}

export function hide() {
  disconnectLive();
}
