// deskhost desktop script: counts durations up, sends tile actions without a
// page reload, keeps one live window per user, runs the sign-in pages'
// helpers (Alt+Left, the station dialog) and starts desktop telephony.
// Loaded from 'self' only (CSP).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// One id per browser tab, kept across reloads of that tab.
function windowId() {
  let id = sessionStorage.getItem("deskhost-window");
  if (!id) {
    id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    sessionStorage.setItem("deskhost-window", id);
  }
  return id;
}

function formatElapsed(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor(seconds / 60) % 60;
  const s = seconds % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function tickDurations() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time[data-since]")) {
    const since = Number(el.dataset.since);
    if (!Number.isFinite(since)) continue;
    const secs = Math.max(0, Math.floor((now - since) / 1000));
    el.textContent = formatElapsed(secs);
    el.setAttribute("datetime", `PT${secs}S`);
  }
}

async function sendAction(form, submitter) {
  const data = new URLSearchParams(new FormData(form, submitter));
  const tile = form.closest(".tile");
  tile.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(form.action, {
      method: "POST",
      body: data,
      headers: {
        "X-Deskhost-Fragment": "1",
        "X-CSRF-Token": csrfToken(),
        "X-Deskhost-Window": windowId(),
      },
      credentials: "same-origin",
    });
    if (res.status === 401) {
      window.location.reload(); // the session ended: back to sign-in
      return;
    }
    if (res.status === 409) {
      tile.removeAttribute("aria-busy");
      showWindowPrompt(await res.text());
      return;
    }
    const html = await res.text();
    const tmp = document.createElement("template");
    tmp.innerHTML = html.trim();
    const fresh = tmp.content.firstElementChild;
    if (fresh && fresh.classList.contains("tile")) {
      replaceTile(tile, fresh);
    } else {
      throw new Error(`unexpected answer (${res.status})`);
    }
  } catch (e) {
    tile.removeAttribute("aria-busy");
    form.submit();
  }
}

function updateBanner() {
  const banner = document.getElementById("banner");
  if (!banner) return;
  banner.hidden = document.querySelector(".tile.failed") === null;
}

document.addEventListener("submit", (ev) => {
  const form = ev.target;
  if (form instanceof HTMLFormElement && form.classList.contains("tile-body")) {
    ev.preventDefault();
    sendAction(form, ev.submitter);
  }
});

// A tile's new markup replaces the old; a keyboard user keeps their place:
// the focus moves to the same control in the new tile (same id, or same
// name and value, or the same position), else to the tile itself. With
// `keepEdits` (a live update, not the answer to an action), choices made in
// the old tile and not yet sent (a filter chosen, then the focus moved on
// to Apply) are carried over, so fresh figures never undo them.
function replaceTile(old, fresh, keepEdits = false) {
  const active = document.activeElement;
  let key = null;
  if (active && old.contains(active)) {
    const focusable = [...old.querySelectorAll(FOCUSABLE)];
    key = { id: active.id, name: active.getAttribute("name"), value: active.getAttribute("value"),
            tag: active.tagName, index: focusable.indexOf(active) };
  }
  const edits = keepEdits ? pendingEdits(old) : [];
  old.replaceWith(fresh);
  carryOver(edits, fresh);
  tickDurations();
  updateBanner();
  if (!key) return;
  const candidates = [...fresh.querySelectorAll(FOCUSABLE)];
  const target = (key.id && document.getElementById(key.id) && fresh.contains(document.getElementById(key.id))
      ? document.getElementById(key.id) : null)
    || candidates.find((el) => key.name && el.tagName === key.tag && el.getAttribute("name") === key.name
      && el.getAttribute("value") === key.value)
    || candidates[Math.min(key.index, candidates.length - 1)]
    || fresh.querySelector("[tabindex]");
  if (target) target.focus({ preventScroll: true });
}

const FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]";

// The form controls of `tile` whose value differs from what the server
// rendered, as [name, type, value, checked] to find them again.
function pendingEdits(tile) {
  const edits = [];
  for (const el of tile.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const name = el.getAttribute("name");
    if (!name) continue;
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      if (el.checked !== el.defaultChecked) edits.push([name, el.type, el.value, el.checked]);
    } else if (el.tagName === "SELECT") {
      if ([...el.options].some((o) => o.selected !== o.defaultSelected)) {
        edits.push([name, "select", el.value, null]);
      }
    } else if (el.value !== el.defaultValue) {
      edits.push([name, el.type, el.value, null]);
    }
  }
  return edits;
}

// Applies `edits` (from `pendingEdits`) to the same controls in `tile`;
// a choice the new markup no longer offers is dropped.
function carryOver(edits, tile) {
  for (const [name, type, value, checked] of edits) {
    for (const el of tile.querySelectorAll("input, select, textarea")) {
      if (el.getAttribute("name") !== name) continue;
      if (checked !== null) {
        if (el.type === type && el.value === value) el.checked = checked;
      } else if (type === "select") {
        if (el.tagName === "SELECT" && [...el.options].some((o) => o.value === value)) el.value = value;
      } else if (el.type === type) {
        el.value = value;
      }
    }
  }
}

// Selects marked data-autosubmit (the agent state) submit when a choice is
// made with the mouse. Arrow keys on a closed select change its value too,
// so from the keyboard a choice waits for Enter or the Set button, which
// appears while a choice is pending: arrowing through the list never
// changes the agent's state by accident.
document.addEventListener("keydown", (ev) => {
  const el = ev.target;
  if (!(el instanceof HTMLSelectElement) || el.dataset.autosubmit === undefined) return;
  if (ev.key === "Enter") {
    ev.preventDefault();
    el.form.requestSubmit();
  } else if (ev.key !== "Tab" && ev.key !== "Shift") {
    el.dataset.keyboard = "1";
  }
});

document.addEventListener("change", (ev) => {
  const el = ev.target;
  if (!(el instanceof HTMLSelectElement) || el.dataset.autosubmit === undefined) return;
  if (el.dataset.keyboard) {
    const set = el.form.querySelector("button[data-pending]");
    if (set) set.hidden = false;
  } else {
    el.form.requestSubmit();
  }
});

document.addEventListener("mousedown", (ev) => {
  if (ev.target instanceof HTMLSelectElement) delete ev.target.dataset.keyboard;
});

// Escape closes the open profile menu and gives the focus back to it.
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape") return;
  const menu = document.querySelector("details.profile[open]");
  if (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

// Live updates: one server-sent event stream per visible page; closed while
// the tab is hidden so a hidden tab costs the server nothing.
let events = null;

function openEvents(renderedAt) {
  const base = document.body.dataset.events;
  if (!base || events) return;
  events = new EventSource(`${base}&window=${encodeURIComponent(windowId())}&rendered_at=${renderedAt}`);
  events.addEventListener("elsewhere", (ev) => {
    closeEvents();
    showWindowPrompt(ev.data);
  });
  events.addEventListener("moved", (ev) => {
    closeEvents();
    showWindowPrompt(ev.data);
  });
  events.addEventListener("error", () => {
    // A stream the server refused (the session ended) is not retried by
    // the browser: reload, and the server sends the page or the sign-in.
    if (events && events.readyState === EventSource.CLOSED) {
      window.location.reload();
    }
  });
  events.addEventListener("reload", () => {
    // The admin changed the page's structure: fetch it again.
    window.location.reload();
  });
  events.addEventListener("tile", (ev) => {
    const data = JSON.parse(ev.data);
    const old = document.getElementById(`tile-${data.id}`);
    if (!old) return;
    const active = document.activeElement;
    if (active && old.contains(active) && active.matches("input, select, textarea")) {
      return; // do not pull a form from under the user's fingers
    }
    const tmp = document.createElement("template");
    tmp.innerHTML = data.html.trim();
    const fresh = tmp.content.firstElementChild;
    if (fresh) replaceTile(old, fresh, true);
  });
}

function closeEvents() {
  if (events) {
    events.close();
    events = null;
  }
}

let prompting = false;

// The desktop is live in another window: say so, and offer Continue.
function showWindowPrompt(text) {
  const dialog = document.getElementById("window-prompt");
  if (!dialog) return;
  prompting = true;
  if (text) document.getElementById("window-prompt-text").textContent = text;
  dialog.querySelector('input[name="window"]').value = windowId();
  if (!dialog.open) dialog.showModal();
}

document.addEventListener("submit", async (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || form.id !== "continue-form") return;
  ev.preventDefault();
  const res = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { "X-CSRF-Token": csrfToken() },
    credentials: "same-origin",
  });
  if (res.ok || res.status === 401) window.location.reload();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    closeEvents();
  } else if (!prompting) {
    openEvents(0); // the page may be stale: ask for every tile once
  }
});

// Desktop telephony: the browser's microphone must start; if it cannot,
// the host sets the user to RONA and gives a tracking ID.
async function startDesktopTelephony() {
  if (document.body.dataset.telephony !== "desktop") return;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((t) => t.stop());
  } catch (e) {
    const res = await fetch("/me/telephony-failed", {
      method: "POST",
      body: new URLSearchParams({ reason: String(e && e.name ? e.name : e) }),
      headers: { "X-CSRF-Token": csrfToken() },
      credentials: "same-origin",
    });
    const alert = document.getElementById("telephony-alert");
    if (res.ok && alert) {
      const data = await res.json();
      alert.textContent = data.message;
      alert.hidden = false;
    }
  }
}

// ---- sign-in pages ----

// Alt+Left arrow (Windows) or Command+Left arrow (Mac) on the password
// step goes back to the e-mail step.
document.addEventListener("keydown", (ev) => {
  const form = document.querySelector("form[data-back-shortcut]");
  if (!form || ev.key !== "ArrowLeft" || !(ev.altKey || ev.metaKey)) return;
  const back = document.getElementById(form.dataset.backShortcut);
  if (back) {
    ev.preventDefault();
    back.requestSubmit();
  }
});

async function readMicrophone() {
  const field = document.getElementById("microphone");
  const status = document.getElementById("microphone-status");
  if (!field) return;
  let state = "unknown";
  try {
    const p = await navigator.permissions.query({ name: "microphone" });
    state = p.state;
    if (state === "prompt") {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      stream.getTracks().forEach((t) => t.stop());
      state = "granted";
    }
  } catch (e) {
    state = e && e.name === "NotAllowedError" ? "denied" : state;
  }
  field.value = state;
  if (status) {
    status.textContent = state === "granted"
      ? "Microphone access is allowed."
      : "Desktop telephony needs access to your microphone. Allow it in your browser's site settings, or contact your administrator.";
  }
}

function updateStationForm() {
  const form = document.getElementById("station-form");
  if (!form) return;
  // Where the browser is, so that widgets show the supervisor's own time.
  const zone = document.getElementById("time-zone");
  if (zone && !zone.value) {
    try {
      zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (_) {
      zone.value = "";
    }
  }
  const locale = document.getElementById("locale");
  if (locale && !locale.value) locale.value = navigator.language || "";
  const checked = form.querySelector('input[name="telephony"]:checked');
  const telephony = checked ? checked.value : "dial-number";
  document.getElementById("number-field").hidden = telephony === "desktop";
  document.getElementById("desktop-field").hidden = telephony !== "desktop";
  const team = document.getElementById("team-field");
  if (team) {
    const role = form.querySelector('[name="role"]');
    const roles = team.dataset.roles.split(" ");
    team.hidden = !roles.includes(role ? role.value : "");
  }
}

function filterTeams() {
  const search = document.getElementById("team-search");
  const select = document.getElementById("team");
  if (!search || !select) return;
  const needle = search.value.trim().toLowerCase();
  for (const option of select.options) {
    if (!option.value) continue;
    option.hidden = needle !== "" && !option.textContent.toLowerCase().includes(needle);
  }
  const selected = select.selectedOptions[0];
  if (needle !== "" && (!selected || selected.hidden || !selected.value)) {
    const first = [...select.options].find((o) => o.value && !o.hidden);
    select.value = first ? first.value : "";
  }
}

document.addEventListener("change", (ev) => {
  if (ev.target.closest && ev.target.closest("#station-form")) {
    updateStationForm();
    if (ev.target.name === "telephony" && ev.target.value === "desktop") readMicrophone();
  }
});

document.addEventListener("input", (ev) => {
  if (ev.target.id === "team-search") filterTeams();
});

// Back from a collaboration provider without the (SameSite=Strict)
// session cookie: load the same address again from this site, once.
if (document.body.dataset.bounce) {
  const url = new URL(window.location.href);
  url.searchParams.set(document.body.dataset.bounce, "1");
  window.location.replace(url.toString());
}

tickDurations();
setInterval(tickDurations, 1000);
if (document.body.dataset.events && document.visibilityState !== "hidden") {
  openEvents(document.body.dataset.renderedAt || 0);
}
startDesktopTelephony();
updateStationForm();
if (document.querySelector('input[name="telephony"][value="desktop"]:checked')) readMicrophone();
