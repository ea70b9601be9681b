// Entry point: tabs (click, arrow keys, #hash), the optional API token, and each tab's module.
import { getToken, setToken, toast } from "./api.js";
import * as dashboard from "./dashboard.js";
import * as data from "./data.js";
import * as streaming from "./streaming.js";
import * as config from "./config.js";

const modules = { dashboard, data, streaming, config };
const tabs = [...document.querySelectorAll('[role="tab"]')];
const initialised = new Map(); // tab → its init() promise
let current = null;

function select(name, { focus = false, push = true } = {}) {
  if (!modules[name]) name = "dashboard";
  for (const tab of tabs) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (current && current !== name && modules[current].hide) modules[current].hide();
  current = name;
  if (!initialised.has(name)) {
    const ready = Promise.resolve()
      .then(() => modules[name].init())
      .catch((err) => toast(err.message || String(err), "error"));
    initialised.set(name, ready);
  }
  initialised.get(name).then(() => { if (current === name) modules[name].show(); });
  if (push && location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

for (const tab of tabs) {
  tab.addEventListener("click", () => select(tab.id.slice(4)));
  tab.addEventListener("keydown", (event) => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length].id.slice(4), { focus: true });
  });
}
window.addEventListener("hashchange", () => select(location.hash.slice(1), { push: false }));

const tokenInput = document.getElementById("api-token");
if (tokenInput) {
  tokenInput.value = getToken();
  tokenInput.addEventListener("change", () => setToken(tokenInput.value.trim()));
}

select(location.hash.slice(1) || "dashboard", { push: false });
