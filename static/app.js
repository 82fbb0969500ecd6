// Surge live dashboard: the entry point, loaded after the other dashboard scripts (see
// dashboard.js for the map). Wires the theme button, then fills the start form, shows the tab
// of the URL's #hash and connects to the event stream.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, THEMES, applyTheme, storedTheme, tabs, selectTab, updatePanels } = D;

  // ---------------------------------------------------------------- theme button
  $("#btn-theme").addEventListener("click", () => {
    const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
    try { localStorage.setItem("surge-theme", next); } catch (_) { /* ignore */ }
    applyTheme(next);
    for (const c of D.charts) c.refreshTheme();
    if (D.serverCharts) D.serverCharts.each((c) => c.refreshTheme());
  });
  // Automatic theme follows the OS live; charts need to re-read their colours.
  global.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const c of D.charts) c.refreshTheme();
    if (D.serverCharts) D.serverCharts.each((c) => c.refreshTheme());
  });

  // ---------------------------------------------------------------- start
  D.fillStartForm();
  const initial = (location.hash || "").slice(1);
  selectTab(tabs.some((t) => t.dataset.tab === initial) ? initial : "stats");
  updatePanels();
  D.connect();
})(window);
