// Surge live dashboard: the Server charts (the target's scraped /metrics) under the load
// charts, on their time axis. The snapshot says how far scraping got (`server.version`);
// when it moves, the series are fetched once from /api/server-metrics. Picked series are
// kept in local storage, so a reload shows the same charts.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, fmtInt } = D;
  const SC = global.SurgeCharts;
  const PICKS_KEY = "surge-server-picks";
  const MAX_PICKS = 8;

  let picks = loadPicks();
  let version = null;
  let run = null;
  let busy = false;
  let again = false;
  let charts = null;

  function loadPicks() {
    try {
      const v = JSON.parse(localStorage.getItem(PICKS_KEY) || "[]");
      return Array.isArray(v) ? v.filter((x) => typeof x === "string").slice(0, MAX_PICKS) : [];
    } catch (_) {
      return [];
    }
  }

  function savePicks() {
    try { localStorage.setItem(PICKS_KEY, JSON.stringify(picks)); } catch (_) { /* ignore */ }
  }


  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const q = picks.length ? `?pick=${encodeURIComponent(picks.join(","))}` : "";
      const r = await fetch(`/api/server-metrics${q}`, { headers: { accept: "application/json" } });
      if (r.ok) render(await r.json());
    } catch (_) {
      // The next scrape's version retries.
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function render(d) {
    const section = $("#server-section");
    section.hidden = !d.sources.length;
    if (!d.sources.length) return;
    if (!charts) {
      charts = new SC.ServerCharts($("#server-charts"), D.loadExtent);
      D.serverCharts = charts;
    }
    const list = SC.viewCharts(d.sources).concat(SC.seriesCharts(d.sources));
    charts.update(list);
    $("#server-sources").textContent = d.sources
      .map((s) => `${s.source} (${s.url}): ${fmtInt(s.scrapes)} scrapes` +
        (s.failed_scrapes ? `, ${fmtInt(s.failed_scrapes)} failed` : ""))
      .join(" · ");
    const empty = $("#server-empty");
    empty.hidden = list.length > 0;
    if (!list.length) {
      empty.textContent = d.sources.some((s) => s.scrapes)
        ? "The endpoint answered with none of the series Surge charts by itself: pick one under “Add a series”."
        : "Waiting for the first good scrape (warnings above say why there is none).";
    }
    renderPicker(d.sources);
  }

  function renderPicker(sources) {
    const names = new Map();
    for (const s of sources) for (const n of s.names || []) names.set(n.name, n.kind);
    const sel = $("#server-pick");
    const key = `${[...names.keys()].join(",")}|${picks.join(",")}`;
    if (sel.dataset.key === key) return;
    sel.dataset.key = key;
    sel.textContent = "";
    sel.append(new Option(names.size ? "Add a series…" : "No series yet", ""));
    for (const [name, kind] of names) {
      if (!picks.includes(name)) sel.append(new Option(`${name} (${kind})`, name));
    }
    const chosen = $("#server-picked");
    chosen.textContent = "";
    for (const p of picks) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small";
      b.textContent = `${p} ✕`;
      b.setAttribute("aria-label", `Remove the chart of ${p}`);
      b.addEventListener("click", () => {
        picks = picks.filter((x) => x !== p);
        savePicks();
        refresh();
      });
      chosen.append(b);
    }
  }

  $("#server-pick").addEventListener("change", (e) => {
    const name = e.target.value;
    if (!name || picks.includes(name)) return;
    picks = picks.concat(name).slice(-MAX_PICKS);
    savePicks();
    refresh();
  });

  /** Called with every snapshot (live.js). */
  D.renderServer = function (s) {
    if (!s.server) {
      $("#server-section").hidden = true;
      version = null;
      run = s.run;
      return;
    }
    if (s.server.version !== version || s.run !== run) {
      version = s.server.version;
      run = s.run;
      refresh();
    } else if (charts) {
      // The load charts moved on: keep the shared axis.
      charts.invalidate();
    }
  };
})(window);
