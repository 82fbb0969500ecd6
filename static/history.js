// Surge dashboard: the History tab (saved runs: filter, open read-only, relabel, delete),
// the Compare tab (two runs side by side with a verdict and what their settings changed, or
// N runs as a series) and the
// threshold badges in the header. Talks to /api/runs, /api/compare, /api/series and
// /api/thresholds; draws with SurgeCompare (compare.js) and SurgeCharts (charts.js).
"use strict";

(function (global) {
  const $ = (sel) => document.querySelector(sel);
  const { fmtNumber, autoDigits } = global.SurgeCharts;
  const { renderComparison, renderSeries } = global.SurgeCompare;
  let runs = [];
  const selected = new Set();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  const fmt = (v, d) => (v == null ? "–" : fmtNumber(v, d == null ? autoDigits(v) : d));
  const when = (t) => new Date(t * 1000).toLocaleString();
  const title = (r) => (r.label ? `#${r.id} ${r.label}` : `#${r.id}`);

  async function api(url, opts) {
    const res = await fetch(url, { headers: { Accept: "application/json", "Content-Type": "application/json" }, ...opts });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
    return body;
  }

  function note(id, text, isError) {
    const n = $(id);
    n.textContent = text;
    n.classList.toggle("error", !!isError);
  }

  // ------------------------------------------------------------------ History tab
  async function loadRuns() {
    const q = new URLSearchParams({ host: $("#h-host").value, label: $("#h-label").value });
    try {
      const data = await api(`/api/runs?${q}`);
      if (!data.enabled) {
        note("#history-note", `Run history is off: ${data.error || "no data directory"}.`, true);
        runs = [];
      } else {
        runs = data.runs;
        note("#history-note", runs.length ? `${runs.length} saved run${runs.length > 1 ? "s" : ""}, newest first` : "No saved runs yet: every test you stop is saved here.");
      }
    } catch (err) {
      note("#history-note", `Cannot load the history: ${err.message}`, true);
      runs = [];
    }
    for (const id of [...selected]) if (!runs.some((r) => r.id === id)) selected.delete(id);
    renderRuns();
    fillPickers();
    // Opening Compare with nothing compared yet compares the two newest runs.
    if (!$("#panel-compare").hidden && !$("#compare-result").childElementCount && runs.length >= 2) compare();
  }

  function renderRuns() {
    const body = $("#runs-table").tBodies[0];
    body.textContent = "";
    for (const r of runs) {
      const tr = el("tr");
      tr.dataset.id = r.id;
      const pick = el("input");
      pick.type = "checkbox";
      pick.className = "run-pick";
      pick.checked = selected.has(r.id);
      pick.setAttribute("aria-label", `Select run ${r.id}`);
      pick.addEventListener("change", () => {
        if (pick.checked) selected.add(r.id); else selected.delete(r.id);
        updateButtons();
      });
      const c0 = el("td");
      c0.append(pick);
      const label = el("td", "name run-label", r.label || "—");
      const thr = el("td", null, r.thresholds_passed == null ? "" : r.thresholds_passed ? "✓ passed" : "✗ failed");
      if (r.thresholds_passed != null) thr.className = r.thresholds_passed ? "ok" : "bad";
      const actions = el("td", "row-actions");
      const open = el("button", "btn btn-small run-open", "Open");
      open.type = "button";
      open.addEventListener("click", () => openRun(r));
      const relabel = el("button", "btn btn-small run-relabel", "Label…");
      relabel.type = "button";
      relabel.addEventListener("click", () => editLabel(r));
      const del = el("button", "btn btn-small btn-danger run-delete", "Delete");
      del.type = "button";
      del.addEventListener("click", () => deleteRun(r));
      actions.append(open, relabel, del);
      tr.append(c0, el("td", "num", `#${r.id}`), el("td", null, when(r.started_at)), label,
        el("td", "name", r.host), el("td", "num", r.rate != null ? `${fmt(r.rate)}/s` : fmt(r.users, 0)),
        el("td", "num", `${fmt(r.duration_s, 0)} s${r.interrupted ? " ⏹" : ""}`),
        el("td", "num", fmt(r.rps)), el("td", "num", fmt(r.p95_ms)),
        el("td", "num", fmt(r.fail_ratio * 100, 2)), thr, actions);
      body.append(tr);
    }
    $("#runs-table").hidden = runs.length === 0;
    updateButtons();
  }

  function updateButtons() {
    $("#btn-compare-selected").disabled = selected.size !== 2;
    $("#btn-series-selected").disabled = selected.size < 2;
    $("#history-selection").textContent = selected.size ? `${selected.size} selected` : "";
  }

  async function editLabel(r) {
    const label = await global.SurgeDash.ask({
      title: `Label of run #${r.id}`,
      message: "A short name shown in the history, comparisons and reports (empty: none).",
      input: r.label || "",
      ok: "Save label",
    });
    if (label == null) return;
    try {
      await api(`/api/runs/${r.id}/label`, { method: "PUT", body: JSON.stringify({ label }) });
      await loadRuns();
    } catch (err) {
      note("#history-note", `Cannot change the label: ${err.message}`, true);
    }
  }

  async function deleteRun(r) {
    const sure = await global.SurgeDash.ask({
      title: `Delete run ${title(r)}?`,
      message: "Its statistics, history and report are removed from the history. This cannot be undone.",
      ok: "Delete",
      danger: true,
    });
    if (!sure) return;
    try {
      await api(`/api/runs/${r.id}`, { method: "DELETE" });
      if ($("#run-view").dataset.id === String(r.id)) $("#run-view").hidden = true;
      await loadRuns();
    } catch (err) {
      note("#history-note", `Cannot delete: ${err.message}`, true);
    }
  }

  /** A past run, read-only: its report (statistics, charts, failures) and its downloads. */
  function openRun(r) {
    const view = $("#run-view");
    view.dataset.id = r.id;
    $("#run-view-title").textContent = `Run ${title(r)} · ${r.host} · ${when(r.started_at)}`;
    const links = $("#run-downloads");
    links.textContent = "";
    for (const [text, href] of [
      ["Statistics CSV", `/api/runs/${r.id}/csv/stats`], ["Failures CSV", `/api/runs/${r.id}/csv/failures`],
      ["Exceptions CSV", `/api/runs/${r.id}/csv/exceptions`], ["History CSV", `/api/runs/${r.id}/csv/history`],
      ["Report", `/api/runs/${r.id}/report?download=1`],
    ]) {
      const a = el("a", "btn btn-small", text);
      a.href = href;
      a.setAttribute("download", "");
      links.append(a);
    }
    $("#run-frame").src = `/api/runs/${r.id}/report`;
    view.hidden = false;
    view.scrollIntoView({ block: "start" });
  }

  // ------------------------------------------------------------------ Compare tab
  function fillPickers() {
    for (const id of ["#c-before", "#c-after"]) {
      const s = $(id);
      const keep = s.value;
      s.textContent = "";
      for (const r of runs) {
        const o = el("option", null, `${title(r)} · ${when(r.started_at)}`);
        o.value = r.id;
        s.append(o);
      }
      if (runs.some((r) => String(r.id) === keep)) s.value = keep;
    }
    if (runs.length >= 2 && $("#c-before").value === $("#c-after").value) {
      $("#c-before").value = runs[1].id;
      $("#c-after").value = runs[0].id;
    }
  }

  function noise() {
    const v = Number($("#c-noise").value);
    return Number.isFinite(v) && v >= 0 && v <= 1000 ? v : 5;
  }

  async function compare() {
    const before = $("#c-before").value;
    const after = $("#c-after").value;
    if (!before || !after) {
      note("#compare-note", "Pick two saved runs.", true);
      return;
    }
    try {
      const data = await api(`/api/compare?${new URLSearchParams({ before, after, noise: noise() })}`);
      renderComparison($("#compare-result"), data);
      note("#compare-note", "");
    } catch (err) {
      note("#compare-note", `Cannot compare: ${err.message}`, true);
    }
  }

  async function series(ids) {
    try {
      const data = await api(`/api/series?${new URLSearchParams({ ids: ids.join(","), noise: noise() })}`);
      renderSeries($("#compare-result"), data);
      note("#compare-note", `Series of ${ids.length} runs, each against the first (${title(runs.find((r) => r.id === ids[0]) || { id: ids[0] })}).`);
    } catch (err) {
      note("#compare-note", `Cannot build the series: ${err.message}`, true);
    }
  }

  function showCompareTab() {
    $("#tab-compare").click();
  }

  // ------------------------------------------------------------------ threshold badges
  let badgeTimer = 0;
  async function loadBadges() {
    try {
      const data = await api("/api/thresholds");
      const bar = $("#threshold-badges");
      bar.textContent = "";
      const crossings = data.crossings || [];
      // live.js marks them on the charts: where each threshold first failed, second by second.
      if (global.SurgeDash) global.SurgeDash.state.crossings = crossings;
      for (const t of data.thresholds) {
        const state = t.passed == null ? "pending" : t.passed ? "pass" : "fail";
        const b = el("span", `threshold-badge threshold-${state}`, `${state === "pass" ? "✓" : state === "fail" ? "✗" : "…"} ${t.threshold}`);
        const c = crossings.find((x) => x.threshold === t.threshold);
        b.title = c ? `${t.message}; first failed on one second's figures with ${c.users} users: ${c.message}` : t.message;
        bar.append(b);
      }
      bar.hidden = data.thresholds.length === 0;
      if (global.SurgeDash && global.SurgeDash.notifyThresholds) global.SurgeDash.notifyThresholds(data.thresholds);
      // Thresholds are fixed when Surge starts: without any, stop asking.
      if (!data.thresholds.length) return;
    } catch (_) { /* the SSE banner already says when the server is gone */ }
    badgeTimer = setTimeout(loadBadges, 2000);
  }

  // ------------------------------------------------------------------ wiring
  function init() {
    $("#history-filter").addEventListener("submit", (e) => { e.preventDefault(); loadRuns(); });
    $("#btn-compare-selected").addEventListener("click", () => {
      const [a, b] = [...selected].sort((x, y) => x - y);
      $("#c-before").value = a;
      $("#c-after").value = b;
      showCompareTab();
      compare();
    });
    $("#btn-series-selected").addEventListener("click", () => {
      showCompareTab();
      series([...selected].sort((x, y) => x - y));
    });
    $("#compare-form").addEventListener("submit", (e) => { e.preventDefault(); compare(); });
    $("#run-close").addEventListener("click", () => { $("#run-view").hidden = true; $("#run-frame").src = "about:blank"; });
    $("#tab-history").addEventListener("click", loadRuns);
    $("#tab-compare").addEventListener("click", () => { if (runs.length < 2) loadRuns(); });
    if (["#history", "#compare"].includes(location.hash)) loadRuns();
    clearTimeout(badgeTimer);
    loadBadges();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})(window);
