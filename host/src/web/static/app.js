// deskhost desktop script: counts durations up, sends tile actions without a
// page reload, and submits the role switch. Loaded from 'self' only (CSP).
"use strict";

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
      headers: { "X-Deskhost-Fragment": "1" },
      credentials: "same-origin",
    });
    const html = await res.text();
    const tmp = document.createElement("template");
    tmp.innerHTML = html.trim();
    const fresh = tmp.content.firstElementChild;
    if (fresh && fresh.classList.contains("tile")) {
      tile.replaceWith(fresh);
      tickDurations();
      updateBanner();
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

document.addEventListener("change", (ev) => {
  const el = ev.target;
  if (el instanceof HTMLSelectElement && el.dataset.autosubmit !== undefined) {
    el.form.requestSubmit();
  }
});

// Live updates: one server-sent event stream per visible page; closed while
// the tab is hidden so a hidden tab costs the server nothing.
let events = null;

function openEvents(renderedAt) {
  const base = document.body.dataset.events;
  if (!base || events) return;
  events = new EventSource(`${base}&rendered_at=${renderedAt}`);
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
    if (fresh) {
      old.replaceWith(fresh);
      tickDurations();
      updateBanner();
    }
  });
}

function closeEvents() {
  if (events) {
    events.close();
    events = null;
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    closeEvents();
  } else {
    openEvents(0); // the page may be stale: ask for every tile once
  }
});

tickDurations();
setInterval(tickDurations, 1000);
if (document.visibilityState !== "hidden") {
  openEvents(document.body.dataset.renderedAt || 0);
}
