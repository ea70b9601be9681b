// Shared helpers: the JSON API client (with the optional bearer token), formatting, DOM.

const TOKEN_KEY = "retail-datagen-token";

export class ApiError extends Error {
  constructor(status, detail, data) {
    super(detail);
    this.status = status;
    this.data = data;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Call the JSON API; throws ApiError with the server's one-line `detail`. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = getToken();
  if (token && method !== "GET") headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "cannot reach the server; is it still running?");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail, data);
  }
  return data;
}

// ------------------------------------------------------------------ formatting
const intFormat = new Intl.NumberFormat("en-US");
const moneyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

export const fmt = {
  int: (n) => (n === null || n === undefined ? "–" : intFormat.format(n)),
  money: (n) => moneyFormat.format(n || 0),
  compactMoney: (n) => {
    const v = Math.abs(n);
    if (v >= 1e6) return `$${(n / 1e6).toFixed(1)}M`;
    if (v >= 1e3) return `$${(n / 1e3).toFixed(v >= 1e4 ? 0 : 1)}k`;
    return `$${Math.round(n)}`;
  },
  eta: (seconds) => {
    if (seconds === null || seconds === undefined) return "ETA –";
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
    return h ? `ETA ${h}:${mm}:${ss}` : `ETA ${mm}:${ss}`;
  },
  percent: (p) => `${(p || 0).toFixed(1)} %`,
  time: (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–"),
};

// ------------------------------------------------------------------ DOM
/** el("td", {class: "num"}, "12") — attributes, then text or nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let toastTimer = null;
/** A short message at the bottom right (also read out by screen readers). */
export function toast(message, kind = "") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 8000 : 4000);
}

/** Run an async action from a button: disable it meanwhile, show errors as a toast. */
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    toast(err.message || String(err), "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Form values as an object; empty inputs are left out, numbers parsed, checkboxes booleans. */
export function formValues(form) {
  const out = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.type === "checkbox") out[input.name] = input.checked;
    else if (input.value.trim() === "") continue;
    else if (input.type === "number") out[input.name] = Number(input.value);
    else out[input.name] = input.value.trim();
  }
  return out;
}
