// Surge HTML report: renders the self-contained report from its JSON blob
// (<script id="surge-data">) with the same chart code (charts.js) as the live dashboard.
// Static: built once on load, so plain DOM building is fine here.
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  const { fmtNumber, autoDigits, standardCharts } = window.SurgeCharts;
  const PCT = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"];

  const fmtInt = (v) => (v == null ? "–" : fmtNumber(Math.round(v), 0));
  const fmtMs = (v) => (v == null ? "–" : fmtNumber(v, autoDigits(v)));
  const fmtRate = (v) => (v == null ? "–" : fmtNumber(v, v >= 100 ? 0 : v >= 10 ? 1 : 2));
  const fmtTime = (t) => (t == null ? "–" : new Date(t * 1000).toLocaleString());
  const pctTitle = (l) => (l === "50%" ? "Median (ms)" : `${l.replace("%", "")}%ile (ms)`);

  /** "1 h 2 min 3 s" from seconds. */
  function fmtDuration(sec) {
    const s = Math.max(0, Math.round(sec));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const parts = [];
    if (h) parts.push(`${fmtInt(h)} h`);
    if (h || m) parts.push(`${m} min`);
    parts.push(`${s % 60} s`);
    return parts.join(" ");
  }

  function table(id, columns, rows, footer) {
    const t = document.getElementById(id);
    const head = document.createElement("tr");
    for (const c of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = c.title;
      if (c.num) th.className = "num";
      head.append(th);
    }
    t.tHead.append(head);
    const addRow = (section, r) => {
      const tr = document.createElement("tr");
      for (const c of columns) {
        const td = document.createElement("td");
        td.textContent = c.text(r);
        if (c.num) td.className = "num";
        if (c.cls) td.classList.add(c.cls);
        tr.append(td);
      }
      section.append(tr);
    };
    for (const r of rows) addRow(t.tBodies[0], r);
    if (footer) addRow(t.tFoot, footer);
    return t;
  }

  function statsColumns() {
    const cols = [
      { title: "Type", text: (e) => e.method },
      { title: "Name", cls: "name", text: (e) => e.name },
      { title: "# Requests", num: true, text: (e) => fmtInt(e.num_requests) },
      { title: "# Fails", num: true, text: (e) => fmtInt(e.num_failures) },
      { title: "Average (ms)", num: true, text: (e) => fmtMs(e.avg_ms) },
      { title: "Min (ms)", num: true, text: (e) => fmtMs(e.min_ms) },
      { title: "Max (ms)", num: true, text: (e) => fmtMs(e.max_ms) },
      { title: "Average size (bytes)", num: true, text: (e) => fmtInt(e.avg_size) },
      { title: "RPS", num: true, text: (e) => fmtRate(e.total_rps) },
      { title: "Failures/s", num: true, text: (e) => fmtRate(e.total_fail_per_sec) },
    ];
    // All 11 percentiles in the report (the live page lets you pick).
    PCT.forEach((l, i) => cols.push({ title: pctTitle(l), num: true, text: (e) => fmtMs((e.percentiles || [])[i]) }));
    return cols;
  }

  function meta(s, history) {
    const dl = $("#meta");
    const start = s.stats_start || (history.length ? history[0].time : null);
    const end = s.stats_end != null ? s.stats_end : s.time;
    // Users ran until the stop; what followed was the drain (in-flight requests finishing).
    const stop = s.drain_start != null ? s.drain_start : end;
    const dur = start != null ? stop - start : 0;
    const total = s.total || {};
    const failPct = total.num_requests ? (100 * total.num_failures) / total.num_requests : 0;
    const items = [
      ["Host", s.host || "–"],
      ["Status", s.state],
      ["Run", `#${s.run}`],
      ["Start", fmtTime(start)],
      ["End", fmtTime(end)],
      ["Duration", s.drain_start != null
        ? `${fmtDuration(dur)} + ${fmtDuration(Math.max(0, end - stop))} stopping`
        : fmtDuration(dur)],
      ["Users", fmtInt(s.user_count)],
      ["Requests", fmtInt(total.num_requests)],
      ["Failures", `${fmtInt(total.num_failures)} (${fmtNumber(failPct, 2)} %)`],
      ["Average RPS", `${fmtRate(total.total_rps)} req/s`],
    ];
    for (const [k, v] of items) {
      const div = document.createElement("div");
      div.className = "figure";
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      div.append(dt, dd);
      dl.append(div);
    }
  }

  function banner(s) {
    const lines = (s.warnings || []).map((w) => ["warn", `⚠ ${w}`]);
    // Each overload range of the generator (Surge itself, or the machine busy elsewhere).
    for (const r of (s.generator && s.generator.ranges) || []) lines.push(["warn", `⚠ ${r.message}`]);
    // `m:ss` into the test.
    const clock = (t) => {
      const into = Math.max(0, Math.round(t - (s.stats_start || t)));
      return `${Math.floor(into / 60)}:${String(into % 60).padStart(2, "0")}`;
    };
    const f = s.first_failure;
    if (f) {
      const rate = f.rate != null ? ` at ${fmtRate(f.rate)} starts/s` : "";
      lines.push(["info", `First failure at ${clock(f.time)} with ${fmtInt(f.users)} users${rate}: ${f.method} ${f.name}: ${f.message}`]);
    }
    for (const c of s.threshold_crossings || []) {
      lines.push(["info", `Threshold "${c.threshold}" first failed at ${clock(c.time)} with ${fmtInt(c.users)} users, on that second's figures: ${c.message}`]);
    }
    const om = s.open_model;
    if (om) {
      const u = om.uncorrected_percentiles || [];
      const c = (s.total && s.total.percentiles) || [];
      lines.push(["info", `Open model: target ${fmtRate(om.target_rate)} starts/s · scheduled ${fmtInt(om.scheduled)} · ` +
        `late starts ${fmtInt(om.late_starts)} · dropped ${fmtInt(om.dropped_starts)} · max start lag ${fmtMs(om.max_start_lag_ms)} ms`]);
      lines.push(["info", `Response time corrected / uncorrected: p50 ${fmtMs(c[0])} / ${fmtMs(u[0])} ms · ` +
        `p95 ${fmtMs(c[5])} / ${fmtMs(u[5])} ms · p99 ${fmtMs(c[7])} / ${fmtMs(u[7])} ms`]);
    }
    const b = $("#banner");
    for (const [cls, text] of lines) {
      const p = document.createElement("p");
      p.className = cls;
      p.textContent = text;
      b.append(p);
    }
    b.hidden = lines.length === 0;
  }

  function render() {
    let data;
    try {
      data = JSON.parse($("#surge-data").textContent);
    } catch (err) {
      $("#report").prepend(Object.assign(document.createElement("p"), { className: "error", textContent: `Report data unreadable: ${err.message}` }));
      return;
    }
    const s = data.snapshot;
    const history = data.history || [];
    const gen = $("#generated");
    const when = new Date(gen.dateTime);
    if (!Number.isNaN(when.getTime())) gen.textContent = when.toLocaleString();

    meta(s, history);
    banner(s);
    table("stats-table", statsColumns(), s.entries || [], { ...s.total, method: "", name: "Aggregated" });
    const failures = s.failures || [];
    table("failures-table", [
      { title: "# Failures", num: true, text: (f) => fmtInt(f.occurrences) },
      { title: "Method", text: (f) => f.method },
      { title: "Name", cls: "name", text: (f) => f.name },
      { title: "Message", cls: "message", text: (f) => f.message },
      { title: "First Seen", text: (f) => fmtTime(f.first_seen) },
      { title: "Last Seen", text: (f) => fmtTime(f.last_seen) },
    ], failures).closest(".table-wrap").hidden = !failures.length;
    $("#failures-empty").hidden = failures.length > 0;
    const exceptions = s.exceptions || [];
    table("exceptions-table", [
      { title: "# occurrences", num: true, text: (x) => fmtInt(x.count) },
      { title: "Message", cls: "message", text: (x) => x.message },
      { title: "Traceback", cls: "message", text: (x) => x.origin },
    ], exceptions).closest(".table-wrap").hidden = !exceptions.length;
    $("#exceptions-empty").hidden = exceptions.length > 0;

    const bands = ((s.generator && s.generator.ranges) || []).map((r) => ({
      from: r.start,
      to: r.end,
      label: r.cause === "host" ? "machine busy" : "Surge overloaded",
    }));
    // Where the run started to break: a one-second mark at its first failure.
    if (s.first_failure) bands.push({ from: s.first_failure.time, to: s.first_failure.time + 1, label: "first failure" });
    for (const c of s.threshold_crossings || []) bands.push({ from: c.time, to: c.time + 1, label: `${c.threshold} failed` });
    for (const c of standardCharts($("#charts"))) {
      c.setPoints(history);
      c.setBands(bands);
      c.setMarks(s.marks);
    }
    server(data, history, bands);
    thresholds(data.thresholds || []);
    if (data.comparison && data.baseline && window.SurgeCompare) {
      $("#compare-section").hidden = false;
      window.SurgeCompare.renderComparison($("#compare"), {
        before: { title: data.baseline.title, summary: { started_at: data.baseline.snapshot.stats_start }, history: data.baseline.history },
        after: { title: data.label ? `this run (${data.label})` : "this run", summary: { started_at: s.stats_start }, history },
        differences: data.differences,
        comparison: data.comparison,
        server_peaks: data.server_peaks,
      });
    }
  }

  /** The target's scraped metrics: one chart per view on the load's time axis (with a
   * baseline that scraped too, the comparison has each view's peak before and after). */
  function server(data, history, bands) {
    const sources = data.server_metrics || [];
    if (!sources.length) return;
    $("#server-section").hidden = false;
    $("#server-sources").textContent = sources
      .map((s) => `${s.source} (${s.url}): ${fmtInt(s.scrapes)} scrapes every ${s.every_s} s` +
        (s.failed_scrapes ? `, ${fmtInt(s.failed_scrapes)} failed` : ""))
      .join(" · ");
    const range = history.length ? [history[0].time, history[history.length - 1].time] : null;
    const charts = new window.SurgeCharts.ServerCharts($("#server-charts"), () => range);
    charts.update(window.SurgeCharts.viewCharts(sources));
    charts.each((c) => {
      c.setBands(bands);
      c.setMarks(data.snapshot.marks);
    });
  }

  /** Pass/fail of each threshold, as badges. */
  function thresholds(results) {
    const list = $("#thresholds");
    for (const t of results) {
      const state = t.passed == null ? "pending" : t.passed ? "pass" : "fail";
      const li = document.createElement("li");
      const badge = document.createElement("span");
      badge.className = `threshold-badge threshold-${state}`;
      badge.textContent = `${state === "pass" ? "✓ passed" : state === "fail" ? "✗ failed" : "… pending"}`;
      li.append(badge, ` ${t.threshold} — ${t.message}`);
      list.append(li);
    }
    $("#thresholds-section").hidden = results.length === 0;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
