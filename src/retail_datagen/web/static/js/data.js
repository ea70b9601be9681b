// Data tab: generate dimensions/facts with live progress (server-sent events), tables and
// previews, export and validation.
import { api, busy, el, fmt, formValues, toast } from "./api.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
let source = null; // the EventSource of the task being watched
let watched = null; // its task id
let previewState = null; // {name, offset, kind}

// ------------------------------------------------------------------ progress
function renderProgress(p, status) {
  const bar = $("progress-bar");
  const percent = p ? p.percent : 0;
  bar.setAttribute("aria-valuenow", String(Math.round(percent)));
  bar.querySelector(".progress-fill").style.width = `${percent}%`;
  bar.classList.toggle("done", status === "succeeded");
  bar.classList.toggle("failed", status === "failed" || status === "cancelled");
  $("progress-percent").textContent = fmt.percent(percent);
  $("progress-tables").textContent = p ? p.counter || p.table_counter : "0/0 tables complete";
  $("progress-speed").textContent = p && p.rows_per_second ? `${fmt.int(Math.round(p.rows_per_second))} rows/s` : "";
  $("progress-eta").textContent = status && status !== "running" && status !== "pending" ? "ETA –" : fmt.eta(p ? p.estimated_seconds_remaining : null);
}

function describe(task) {
  const p = task.progress;
  const parts = [`${task.kind.replace("_", " ")} · ${task.status}`];
  if (p && p.tables_in_progress.length && task.status === "running") parts.push(`in progress: ${p.tables_in_progress.join(", ")}`);
  if (p && p.rows_written) parts.push(`${fmt.int(p.rows_written)} rows`);
  if (task.result && task.result.total_rows !== undefined) parts.push(`${fmt.int(task.result.total_rows)} rows written`);
  if (task.result && task.result.total_files !== undefined) parts.push(`${fmt.int(task.result.total_files)} files written to ${task.result.out_dir}`);
  if (task.result && task.result.message) parts.push(task.result.message);
  return parts.join(" · ");
}

function renderTask(task) {
  renderProgress(task.progress, task.status);
  $("progress-detail").textContent = describe(task);
  $("progress-error").hidden = !task.error;
  $("progress-error").textContent = task.error || "";
  $("task-cancel").hidden = task.status !== "running" && task.status !== "pending";
}

/** Follow a task's progress through its server-sent events until the final `done` event. */
export function watch(task) {
  if (source) source.close();
  watched = task.id;
  renderTask(task);
  source = new EventSource(`/api/tasks/${task.id}/events`);
  source.addEventListener("progress", (event) => {
    const p = JSON.parse(event.data);
    task = { ...task, status: "running", progress: p };
    renderTask(task);
  });
  source.addEventListener("done", (event) => {
    source.close();
    source = null;
    const final = JSON.parse(event.data);
    renderTask(final);
    if (final.status === "succeeded") toast(`${final.kind.replace("_", " ")} finished`, "ok");
    else if (final.status === "failed") toast(final.error || "task failed", "error");
    else toast(`${final.kind.replace("_", " ")} ${final.status}`);
    loadTables();
    document.dispatchEvent(new CustomEvent("task-finished", { detail: final }));
  });
}

async function start(button, path, body) {
  await busy(button, async () => {
    const task = await api(path, { method: "POST", body });
    watch(task);
  });
}

// ------------------------------------------------------------------ estimate
// What the facts form would generate (days, rows, disk, time), shown before it starts; a run
// over 20 GB or 30 minutes needs a second yes, as `retail-datagen generate` asks on a terminal.
let estimateTimer = null;
let estimated = null; // the last estimate, for the fields it was asked with

function factsBody() {
  const body = formValues($("form-facts"));
  if (!body.csv_daily) delete body.csv_daily;
  if (!body.until_now) delete body.until_now;
  return body;
}

function estimateQuery(body) {
  const params = new URLSearchParams();
  for (const key of ["start", "end", "days", "workers", "format"]) {
    if (body[key] !== undefined && !(key === "end" && body.until_now)) params.set(key, String(body[key]));
  }
  return params.toString();
}

export async function loadEstimate() {
  const line = $("facts-estimate");
  try {
    estimated = await api(`/api/generation/estimate?${estimateQuery(factsBody())}`);
    line.textContent = `Estimate: ${estimated.summary}`;
    line.classList.toggle("large", estimated.needs_confirmation);
  } catch (err) {
    estimated = null;
    line.textContent = `Estimate: ${err.message}`;
    line.classList.remove("large");
  }
  return estimated;
}

function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(loadEstimate, 250);
}

async function startFacts(button) {
  const body = factsBody();
  const size = await loadEstimate(); // exactly what is about to start
  if (size && size.needs_confirmation
      && !window.confirm(`${size.summary}.\n\nThis run is over 20 GB or 30 minutes. Start it?`)) return;
  start(button, "/api/generate/facts", body);
}

// ------------------------------------------------------------------ tables and previews
export async function loadTables() {
  let data;
  try {
    data = await api("/api/tables");
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  const rows = data.tables.map((t) => el("tr", { "data-table": t.name, class: previewState && previewState.name === t.name ? "selected" : "" },
    el("td", { text: t.name }),
    el("td", {}, el("span", { class: `kind ${t.kind}`, text: t.kind })),
    el("td", { class: "num", text: fmt.int(t.rows) }),
    el("td", { class: "muted small hide-sm", text: t.doc }),
    el("td", {}, el("button", { class: "link", type: "button", "aria-label": `Preview ${t.name}`, onclick: () => preview(t.name, 0, t.kind) }, "Preview"))));
  $("tables-list").tBodies[0].replaceChildren(...rows);
}

async function preview(name, offset, kind) {
  let data;
  try {
    data = await api(`/api/tables/${encodeURIComponent(name)}/preview?limit=${PAGE}&offset=${offset}`);
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  previewState = { name, offset, kind };
  for (const row of $("tables-list").tBodies[0].rows) row.classList.toggle("selected", row.dataset.table === name);
  $("preview-card").hidden = false;
  $("preview-title").textContent = `Preview: ${name}`;
  const table = $("preview-table");
  table.tHead.replaceChildren(el("tr", {}, ...data.columns.map((c) => el("th", { title: `${c.type}${c.doc ? " — " + c.doc : ""}`, text: c.name }))));
  table.tBodies[0].replaceChildren(...(data.rows.length
    ? data.rows.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: v === null ? "∅" : String(v) }))))
    : [el("tr", {}, el("td", { colspan: String(data.columns.length), class: "muted", text: "No rows." }))]));
  let meta = data.rows.length ? `rows ${fmt.int(offset + 1)}–${fmt.int(offset + data.rows.length)}` : "no rows";
  if (kind === "fact" && offset === 0) {
    try {
      const range = await api(`/api/tables/${encodeURIComponent(name)}/date-range`);
      if (range.start) meta += ` · ${range.start.replace("T", " ").slice(0, 16)} → ${range.end.replace("T", " ").slice(0, 16)}`;
    } catch (err) { /* the preview is still useful without the range */ }
  }
  $("preview-meta").textContent = meta;
  $("preview-prev").disabled = offset === 0;
  $("preview-next").disabled = data.rows.length < PAGE;
  if (offset === 0) $("preview-card").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// ------------------------------------------------------------------ validate
function renderReport(report) {
  const box = $("validate-result");
  const summary = el("p", { class: `report-summary ${report.passed ? "ok" : "fail"}`,
    text: `${report.passed ? "PASSED" : "FAILED"}: ${report.checks - report.failures} of ${report.checks} checks passed (${report.seconds.toFixed(1)} s)` });
  const failures = report.results.filter((r) => !r.passed);
  box.replaceChildren(summary, ...(failures.length
    ? [el("ul", { class: "failures" }, ...failures.map((r) => el("li", {}, el("strong", { text: r.name }), ` — ${r.violations !== null ? r.violations + " violations" : "measured " + r.measured} ${r.detail}`)))]
    : []));
}

// ------------------------------------------------------------------ wiring
export function init() {
  $("form-dims").addEventListener("submit", (event) => {
    event.preventDefault();
    start(event.submitter, "/api/generate/dimensions", formValues(event.target));
  });
  $("form-facts").addEventListener("submit", (event) => {
    event.preventDefault();
    startFacts(event.submitter);
  });
  $("form-facts").addEventListener("input", scheduleEstimate);
  document.addEventListener("task-finished", loadEstimate); // the next run starts later
  $("form-export").addEventListener("submit", (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const body = { format: event.submitter.value, csv_daily: Boolean(values.csv_daily) && event.submitter.value === "csv" };
    if (values.tables) body.tables = values.tables.split(",").map((t) => t.trim()).filter(Boolean);
    if (values.out_dir) body.out_dir = values.out_dir;
    start(event.submitter, "/api/export", body);
  });
  $("task-cancel").addEventListener("click", (event) => busy(event.target, async () => {
    if (watched) await api(`/api/tasks/${watched}/cancel`, { method: "POST" });
    toast("cancel requested");
  }));
  $("tables-refresh").addEventListener("click", loadTables);
  $("preview-prev").addEventListener("click", () => previewState && preview(previewState.name, Math.max(0, previewState.offset - PAGE), previewState.kind));
  $("preview-next").addEventListener("click", () => previewState && preview(previewState.name, previewState.offset + PAGE, previewState.kind));
  $("validate-run").addEventListener("click", (event) => busy(event.target, async () => {
    $("validate-result").replaceChildren(el("p", { class: "muted small", text: "Validating…" }));
    try {
      renderReport(await api("/api/validate", { method: "POST" }));
    } catch (err) {
      $("validate-result").replaceChildren(el("p", { class: "error-text", text: err.message }));
    }
  }));
  // pick up a task that is already running (e.g. after a reload)
  api("/api/tasks").then((data) => {
    const running = data.tasks.find((t) => t.status === "running" || t.status === "pending");
    if (running) watch(running);
    else if (data.tasks.length) renderTask(data.tasks[0]);
  }).catch(() => {});
}

export function show() {
  loadTables();
  loadEstimate();
}
