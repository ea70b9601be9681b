// Config tab: a form generated from the configuration JSON with inline validation errors from
// the API, connection-string validation, and clearing all data behind three confirmations.
import { api, busy, el, toast } from "./api.js";

const $ = (id) => document.getElementById(id);
const SECRET_KEYS = new Set(["realtime.azure_connection_string"]);
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
// numbers that may be left empty (null): the generator then sizes them itself
const AUTO_NUMBER_KEYS = new Set([
  "volume.refrigerated_trucks",
  "volume.non_refrigerated_trucks",
  "volume.supplier_refrigerated_trucks",
  "volume.supplier_non_refrigerated_trucks",
]);
let checkTimer = null;

// ------------------------------------------------------------------ the generated form
function field(key, value) {
  const id = `cfg-${key.replace(/\./g, "-")}`;
  const name = key.split(".").pop().replace(/_/g, " ");
  let input;
  if (typeof value === "boolean") {
    input = el("input", { type: "checkbox", id, "data-key": key, "data-type": "bool" });
    input.checked = value;
    return el("div", { class: "config-field" },
      el("label", { class: "check", for: id, title: key }, input, el("span", { text: name })),
      el("span", { class: "field-error", id: `${id}-error`, role: "alert" }));
  }
  if (typeof value === "number" || AUTO_NUMBER_KEYS.has(key)) {
    input = el("input", { type: "number", step: "any", id, "data-key": key, "data-type": "number", inputmode: "decimal" });
    input.value = value === null ? "" : String(value);
    if (AUTO_NUMBER_KEYS.has(key)) input.placeholder = "sized from the network";
  } else if (SECRET_KEYS.has(key)) {
    input = el("input", { type: "password", id, "data-key": key, "data-type": "secret", autocomplete: "off", placeholder: value ? "set (hidden)" : "not set" });
    input.dataset.masked = value ? "true" : "false";
  } else if (typeof value === "string" && DATE_RE.test(value)) {
    input = el("input", { type: "date", id, "data-key": key, "data-type": "string" });
    input.value = value;
  } else {
    input = el("input", { type: "text", id, "data-key": key, "data-type": "string", spellcheck: "false" });
    input.value = value === null ? "" : String(value);
  }
  input.setAttribute("aria-describedby", `${id}-error`);
  return el("div", { class: "config-field" },
    el("label", { for: id, title: key }, el("span", { text: name }), input),
    el("span", { class: "field-error", id: `${id}-error`, role: "alert" }));
}

function section(prefix, object, title) {
  const scalars = el("div", { class: "fields" });
  const nested = [];
  for (const [name, value] of Object.entries(object)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value && typeof value === "object" && !Array.isArray(value)) nested.push(section(key, value, name));
    else scalars.append(field(key, value));
  }
  return el("fieldset", { "data-section": prefix }, el("legend", { text: title.replace(/_/g, " ") }), scalars.childElementCount ? scalars : null, ...nested);
}

function buildForm(config) {
  const general = {};
  const sections = [];
  for (const [name, value] of Object.entries(config)) {
    if (value && typeof value === "object") sections.push(section(name, value, name));
    else general[name] = value;
  }
  $("config-fields").replaceChildren(section("", general, "general"), ...sections);
}

function collect() {
  const out = {};
  for (const input of $("config-fields").querySelectorAll("[data-key]")) {
    const path = input.dataset.key.split(".");
    let node = out;
    for (const part of path.slice(0, -1)) node = node[part] ??= {};
    const last = path[path.length - 1];
    const type = input.dataset.type;
    if (type === "bool") node[last] = input.checked;
    else if (type === "number") node[last] = input.value.trim() === "" ? null : Number(input.value);
    else if (type === "secret") node[last] = input.value === "" && input.dataset.masked === "true" ? "***" : input.value;
    else node[last] = input.value;
  }
  return out;
}

// ------------------------------------------------------------------ inline errors
function showErrors(errors) {
  for (const input of $("config-fields").querySelectorAll("[data-key]")) {
    input.removeAttribute("aria-invalid");
    document.getElementById(`${input.id}-error`).textContent = "";
  }
  const unplaced = [];
  for (const error of errors) {
    const input = $("config-fields").querySelector(`[data-key="${CSS.escape(error.key)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      document.getElementById(`${input.id}-error`).textContent = error.message;
    } else {
      unplaced.push(error.message);
    }
  }
  $("config-error").hidden = errors.length === 0;
  $("config-error").textContent = errors.length
    ? (unplaced.length ? unplaced.join(" · ") : `${errors.length} value${errors.length === 1 ? "" : "s"} to fix (marked below each field).`)
    : "";
  return errors.length === 0;
}

async function check() {
  try {
    const result = await api("/api/config/validate", { method: "POST", body: collect() });
    return showErrors(result.errors);
  } catch (err) {
    toast(err.message, "error");
    return false;
  }
}

async function load(path = "/api/config") {
  const data = await api(path);
  $("config-file").textContent = data.config_file;
  buildForm(data.config);
  showErrors([]);
}

// ------------------------------------------------------------------ clear all data (3 steps)
function ask(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

async function clearAllData(button) {
  const phrase = document.body.dataset.clearConfirmation;
  if ((await ask($("clear-step-1"))) !== "next") return;
  const input = $("clear-phrase");
  input.value = "";
  $("clear-next-2").disabled = true;
  if ((await ask($("clear-step-2"))) !== "next" || input.value !== phrase) return;
  if ((await ask($("clear-step-3"))) !== "delete") return;
  await busy(button, async () => {
    const result = await api("/api/data/clear", {
      method: "POST",
      body: { confirm: input.value, cancel_running: $("clear-cancel-running").checked },
    });
    $("clear-result").textContent = result.removed.length
      ? `Removed ${result.removed.length} item${result.removed.length === 1 ? "" : "s"} from ${result.data_dir}.`
      : `Nothing to delete in ${result.data_dir}.`;
    toast("all generated data deleted", "ok");
  });
}

// ------------------------------------------------------------------ wiring
export async function init() {
  $("config-fields").addEventListener("input", () => {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 400);
  });
  $("form-config").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.submitter, async () => {
      try {
        await api("/api/config", { method: "PUT", body: collect() });
      } catch (err) {
        if (err.status === 422) {
          await check();
          toast("not saved: fix the marked values", "error");
          return;
        }
        throw err;
      }
      await load();
      toast("configuration saved", "ok");
    });
  });
  $("config-validate").addEventListener("click", (event) => busy(event.target, async () => {
    if (await check()) toast("the configuration is valid", "ok");
  }));
  $("config-reset").addEventListener("click", (event) => {
    if (!window.confirm("Reset every setting to its default and save?")) return;
    busy(event.target, async () => {
      await api("/api/config/reset", { method: "POST" });
      await load();
      toast("configuration reset to defaults", "ok");
    });
  });
  $("form-connection").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = event.target.elements.connection_string.value;
    busy(event.submitter, async () => {
      const result = await api("/api/connection/validate", { method: "POST", body: text ? { connection_string: text } : {} });
      const rows = result.valid
        ? Object.entries(result.info).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v === null ? "–" : String(v) })])
        : [el("dt", { text: "error" }), el("dd", { class: "error-text", text: result.error })];
      $("connection-result").replaceChildren(el("dt", { text: "valid" }), el("dd", { text: result.valid ? "yes" : "no" }), el("dt", { text: "source" }), el("dd", { text: result.source }), ...rows);
    });
  });
  $("clear-phrase").addEventListener("input", (event) => {
    $("clear-next-2").disabled = event.target.value !== document.body.dataset.clearConfirmation;
  });
  $("clear-start").addEventListener("click", (event) => clearAllData(event.target));
  await load();
}

export function show() {}
