// Surge live dashboard, shared core: DOM helpers, the theme, the page's configuration and
// number formatting, the state every part reads (the latest snapshot, the open tab), which
// panels show in which test state, and the connection line in the header.
//
// The dashboard is plain ES2020 classic scripts, no dependencies and no build step. After
// charts.js, charts-draw.js, charts-server.js (`window.SurgeCharts`) and table.js (`window.SurgeTable`), its own
// scripts load in this order and share `window.SurgeDash`:
//   dashboard.js  this core (and the page's own dialog)
//   stats.js      the Statistics, Failures and Exceptions tables
//   live.js       the event stream and applying its snapshots (figures, banner, charts,
//                 the charts' time range)
//   server.js     the Server charts (the target's scraped metrics)
//   endpoint.js   one endpoint's charts and response-time distribution
//   forms.js      the start form, the edit dialog, Stop and Reset
//   tabs.js       switching tabs, the Current Ratio and Logs tabs
//   limit.js      the breaking-point search
//   keys.js       keyboard shortcuts and notifications
//   app.js        the theme button, then starts everything
//   compare.js, history.js  the History and Compare tabs, the threshold badges
// A file takes what earlier files export when it loads, and calls what later ones export
// (`SurgeDash.renderStats`, ...) only once app.js has started the page.
"use strict";

(function (global) {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // ---------------------------------------------------------------- theme (first: less flash)
  const THEMES = ["auto", "light", "dark"];
  function applyTheme(theme) {
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    const btn = $("#btn-theme");
    if (btn) {
      const label = `Theme: ${theme === "auto" ? "automatic" : theme}`;
      btn.setAttribute("aria-label", label);
      btn.title = label;
      btn.textContent = theme === "dark" ? "☾ Dark" : theme === "light" ? "☀ Light" : "◐ Auto";
    }
  }
  function storedTheme() {
    try {
      return localStorage.getItem("surge-theme") || "auto";
    } catch (_) {
      return "auto"; // storage may be disabled; the toggle still works for this page
    }
  }
  applyTheme(storedTheme());

  // ---------------------------------------------------------------- config and formatting
  let config = {};
  try {
    config = JSON.parse($("#surge-config").textContent || "{}");
  } catch (err) {
    console.error("bad surge-config JSON", err);
  }
  const PCT_LABELS = config.percentiles && config.percentiles.length === 11
    ? config.percentiles
    : ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"];
  const { fmtNumber, autoDigits } = global.SurgeCharts;

  const fmtInt = (v) => (v == null ? "–" : fmtNumber(Math.round(v), 0));
  /** Milliseconds: more decimals for fast responses, so 0.42 ms does not print as 0. */
  const fmtMs = (v) => (v == null ? "–" : fmtNumber(v, autoDigits(v)));
  const fmtRate = (v) => (v == null ? "–" : fmtNumber(v, v >= 100 ? 0 : v >= 10 ? 1 : 2));
  const fmtPct = (v) => `${fmtNumber(v, v > 0 && v < 1 ? 2 : v < 10 ? 1 : 0)} %`;
  const fmtTime = (t) => (t == null ? "–" : new Date(t * 1000).toLocaleString());
  const pctTitle = (label) => {
    if (label === "50%") return "Median (ms)";
    return `${label.replace("%", "")}%ile (ms)`;
  };

  // ---------------------------------------------------------------- shared state
  const state = {
    /** The latest snapshot (null before the first state event). */
    snap: null,
    /** The tab shown: hidden panels are not kept up to date. */
    activeTab: "stats",
    /** "New" pressed while stopped: the start form shows over the stopped test. */
    wantStartForm: false,
  };

  // ---------------------------------------------------------------- panels by state
  function updatePanels() {
    const st = state.snap ? state.snap.state : "ready";
    // Before any test, the History and Compare tabs can still be browsed (saved runs).
    const browsing = st === "ready" && (state.activeTab === "history" || state.activeTab === "compare");
    const showForm = (st === "ready" && !browsing) || (st === "stopped" && state.wantStartForm);
    $("#start-panel").hidden = !showForm;
    $("#dashboard").hidden = st === "ready" && !browsing;
    $("#start-cancel").hidden = st === "ready";
    for (const b of $$("[data-show]")) b.hidden = !b.dataset.show.split(" ").includes(st);
    if (st !== "stopped") state.wantStartForm = false;
  }

  // ---------------------------------------------------------------- connection line
  let flashTimer = 0;
  /** A message in the header's connection line that goes away after 6 s. */
  function flash(text) {
    const c = $("#conn");
    c.textContent = text;
    c.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { c.hidden = true; }, 6000);
  }
  /** A message in the connection line that stays until the connection is back. */
  function connStatus(text) {
    const c = $("#conn");
    c.textContent = text;
    c.hidden = false;
    clearTimeout(flashTimer);
  }

  // ---------------------------------------------------------------- pinned header
  // The tab bar is pinned right under the header, whose height changes as it wraps.
  const topbar = $(".topbar");
  if (topbar && global.ResizeObserver) {
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--header-h", `${topbar.offsetHeight}px`);
    }).observe(topbar);
  }

  // ---------------------------------------------------------------- in-page dialog
  /**
   * Ask in the page's own modal dialog (never the browser's prompt/confirm): resolves with
   * the text typed (`input` given: its initial value), true (a question), or null when
   * cancelled (Cancel, Escape). Focus goes to the field (or OK) and back where it was.
   */
  function ask({ title, message = "", input = null, ok = "OK", danger = false }) {
    const dlg = $("#dialog");
    const field = $("#dialog-input");
    const okBtn = $("#dialog-ok");
    const back = document.activeElement;
    $("#dialog-title").textContent = title;
    $("#dialog-message").textContent = message;
    $("#dialog-message").hidden = !message;
    field.hidden = input == null;
    field.value = input == null ? "" : input;
    okBtn.textContent = ok;
    okBtn.className = `btn ${danger ? "btn-danger" : "btn-primary"}`;
    return new Promise((resolve) => {
      const done = (value) => {
        $("#dialog-form").removeEventListener("submit", submit);
        $("#dialog-cancel").removeEventListener("click", cancel);
        dlg.removeEventListener("cancel", cancel);
        if (dlg.open) dlg.close();
        if (back && back.focus) back.focus();
        resolve(value);
      };
      const submit = (e) => {
        e.preventDefault();
        done(input == null ? true : field.value);
      };
      const cancel = (e) => {
        if (e) e.preventDefault();
        done(null);
      };
      $("#dialog-form").addEventListener("submit", submit);
      $("#dialog-cancel").addEventListener("click", cancel);
      dlg.addEventListener("cancel", cancel);
      dlg.showModal();
      (input == null ? okBtn : field).focus();
      if (input != null) field.select();
    });
  }

  global.SurgeDash = {
    $, $$, THEMES, applyTheme, storedTheme,
    config, PCT_LABELS, fmtNumber, fmtInt, fmtMs, fmtRate, fmtPct, fmtTime, pctTitle,
    state, updatePanels, flash, connStatus, ask,
  };
})(window);
