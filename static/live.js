// Surge live dashboard: the live connection. One EventSource on /events: `state` rebuilds
// (or, when resumed after a reconnect, extends) everything; `snapshot` updates the figures,
// the tables and the banner and appends one chart point; `log` appends a log line.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, fmtNumber, fmtInt, fmtMs, fmtRate, fmtPct, state, updatePanels } = D;

  // ---------------------------------------------------------------- charts
  const charts = global.SurgeCharts.standardCharts($("#charts"));
  let lastSeq = -1;
  /** The load charts' extent (and their run's start): the charts beside them share it. */
  D.loadExtent = () => charts[0].extent();

  // The time range every chart shows (charts.js keeps it, and in local storage).
  const range = global.SurgeCharts.range;
  function showRange() {
    $("#chart-range").value = range.mode;
    $("#chart-reset").hidden = !range.zoom;
  }
  $("#chart-range").addEventListener("change", (e) => range.setMode(e.target.value));
  $("#chart-reset").addEventListener("click", () => range.reset());
  const pan = (direction) => {
    const v = charts[0].view;
    if (v) range.pan([v.t0, v.t1], direction * (v.t1 - v.t0) / 2);
  };
  $("#chart-earlier").addEventListener("click", () => pan(-1));
  $("#chart-later").addEventListener("click", () => pan(1));
  range.onChange(showRange);
  showRange();

  function setHistory(points) {
    for (const c of charts) c.setPoints(points);
    lastSeq = points.length ? points[points.length - 1].seq : lastSeq;
  }
  function appendPoint(p) {
    // After a reconnect the server may resend a point we have: seq makes appends idempotent.
    if (p.seq != null && p.seq <= lastSeq) return;
    for (const c of charts) c.append(p);
    if (p.seq != null) lastSeq = p.seq;
  }

  // ---------------------------------------------------------------- snapshot rendering
  function renderHeader(s) {
    $("#fig-host").textContent = s.host || "–";
    $("#fig-host").title = s.host || "";
    const st = $("#fig-status");
    st.textContent = s.state;
    st.dataset.state = s.state;
    $("#fig-users").textContent = fmtInt(s.user_count);
    $("#fig-rps").textContent = `${fmtRate(s.total.current_rps)} req/s`;
    const ratio = s.total.num_requests ? (100 * s.total.num_failures) / s.total.num_requests : 0;
    $("#fig-fail").textContent = fmtPct(ratio);
    const g = s.generator || {};
    const cpu = g.cpu_percent == null ? "" : `CPU ${Math.round(g.cpu_percent)} % · `;
    $("#fig-gen").textContent = s.state === "ready" ? "–" : `${cpu}lag ${fmtMs(g.lag_ms)} ms`;
    $("#fig-gen-box").dataset.overloaded = g.overloaded ? "yes" : "no";
    document.body.dataset.state = s.state;
    document.title = `Surge · ${s.state} · ${fmtRate(s.total.current_rps)} req/s`;
    updatePanels();
  }

  /**
   * The generator's overload ranges as one line (how many, of which cause, the worst one),
   * which opens to the list: a long test with many ranges must not push the tabs down.
   */
  function overloadSummary(ranges) {
    if (!ranges.length) return null;
    const host = ranges.filter((r) => r.cause === "host").length;
    const causes = [];
    if (ranges.length - host) causes.push(`${fmtInt(ranges.length - host)} Surge overloaded`);
    if (host) causes.push(`${fmtInt(host)} machine busy with other work`);
    const worst = ranges.reduce((a, b) => (b.peak_lag_ms > a.peak_lag_ms ? b : a));
    const n = ranges.length;
    return {
      cls: "warn",
      text: `⚠ ${fmtInt(n)} overloaded ${n === 1 ? "range" : "ranges"} (${causes.join(", ")}); ` +
        `worst: scheduling lag up to ${fmtMs(worst.peak_lag_ms)} ms. Figures in them are not the target's alone.`,
      details: ranges.map((r) => r.message),
    };
  }

  /** The overload ranges, shaded on every chart. */
  function renderBands(s) {
    const ranges = (s.generator && s.generator.ranges) || [];
    const bands = ranges.map((r) => ({
      from: r.start,
      to: r.end,
      label: r.cause === "host" ? "machine busy" : "Surge overloaded",
    }));
    // Where the run started to break: a one-second mark at its first failure.
    const f = s.first_failure;
    if (f) bands.push({ from: f.time, to: f.time + 1, label: "first failure" });
    // Where each threshold first failed on one second's figures (history.js fetches them).
    for (const c of state.crossings || []) {
      if (s.stats_start != null && c.time >= s.stats_start) {
        bands.push({ from: c.time, to: c.time + 1, label: `${c.threshold} failed` });
      }
    }
    // The step a breaking-point search is running now (limit.js keeps it in the state).
    const step = state.limitStep;
    if (step && s.state !== "stopped") {
      bands.push({ from: step.at, to: Math.max(step.at + 1, s.time), label: `step ${step.n}: ${step.level}` });
    }
    for (const c of charts) {
      c.setBands(bands);
      c.setMarks(s.marks);
    }
    if (D.serverCharts) {
      D.serverCharts.each((c) => {
        c.setBands(bands);
        c.setMarks(s.marks);
      });
    }
    for (const c of D.endpointCharts ? D.endpointCharts() : []) c.setBands(bands);
  }

  /** `First failure at 0:38 with 46 users: POST /orders: 500 ...`, or nothing. */
  function firstFailureText(s) {
    const f = s.first_failure;
    if (!f) return null;
    const into = Math.max(0, Math.round(f.time - (s.stats_start || f.time)));
    const clock = `${Math.floor(into / 60)}:${String(into % 60).padStart(2, "0")}`;
    const rate = f.rate != null ? ` at ${fmtRate(f.rate)} starts/s` : "";
    return `First failure at ${clock} with ${fmtInt(f.users)} users${rate}: ${f.method} ${f.name}: ${f.message}`;
  }

  /** Warnings and open-model figures, above the tabs, only when there is something to say. */
  function renderBanner(s) {
    const banner = $("#banner");
    const parts = [];
    for (const w of s.warnings || []) parts.push({ cls: "warn", text: `⚠ ${w}` });
    const g = s.generator || {};
    if (g.overloaded && g.cause === "host") {
      const h = g.host;
      const load = h ? ` (other processes use ${fmtNumber(Math.max(0, h.busy_cores - h.surge_cores), 1)} of ${h.cores} cores)` : "";
      parts.push({ cls: "warn", text: `⚠ This machine is busy with other work right now${load}: response times include its delays.` });
    } else if (g.overloaded) {
      parts.push({ cls: "warn", text: "⚠ Surge itself is the bottleneck right now: the figures measure the generator, not the target." });
    }
    const summary = overloadSummary(g.ranges || []);
    if (summary) parts.push(summary);
    const first = firstFailureText(s);
    if (first) parts.push({ cls: "info", text: first });
    const om = s.open_model;
    if (om) {
      const u = om.uncorrected_percentiles || [];
      const c = s.total.percentiles || [];
      const pair = (i) => `${fmtMs(c[i])} / ${fmtMs(u[i])} ms`;
      parts.push({
        cls: "info",
        text: `Open model: target ${fmtRate(om.target_rate)} starts/s · scheduled ${fmtInt(om.scheduled)} · ` +
          `late starts ${fmtInt(om.late_starts)} · dropped ${fmtInt(om.dropped_starts)} · ` +
          `max start lag ${fmtMs(om.max_start_lag_ms)} ms`,
      });
      parts.push({
        cls: "info",
        text: `Response time corrected (from the due time when a start waited for a busy user) / uncorrected (from send): ` +
          `p50 ${pair(0)} · p95 ${pair(5)} · p99 ${pair(7)}`,
      });
    }
    const key = JSON.stringify(parts);
    if (banner.dataset.key === key) return;
    banner.dataset.key = key;
    banner.textContent = "";
    for (const p of parts) {
      if (p.details) {
        const box = document.createElement("details");
        box.className = `${p.cls} banner-details`;
        const sum = document.createElement("summary");
        sum.textContent = p.text;
        const list = document.createElement("ul");
        for (const d of p.details) {
          const li = document.createElement("li");
          li.textContent = d;
          list.append(li);
        }
        box.append(sum, list);
        banner.append(box);
        continue;
      }
      const line = document.createElement("p");
      line.className = p.cls;
      line.textContent = p.text;
      banner.append(line);
    }
    banner.hidden = parts.length === 0;
  }

  function renderSnapshot(s) {
    const runChanged = state.snap && state.snap.run !== s.run;
    state.snap = s;
    renderHeader(s);
    D.renderStats(false);
    D.renderFailures(false);
    renderBanner(s);
    renderBands(s);
    if (D.renderServer) D.renderServer(s);
    if (D.renderEndpoint) D.renderEndpoint(s);
    if (D.notifyOn) D.notifyOn(s);
    if (runChanged && state.activeTab === "ratio") D.loadRatio();
  }

  // ---------------------------------------------------------------- live connection
  function parse(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      console.error("bad event data", err);
      return null;
    }
  }

  function connect() {
    const es = new EventSource("/events");
    es.addEventListener("state", (e) => {
      const d = parse(e);
      if (!d) return;
      $("#conn").hidden = true;
      if (d.resumed) {
        for (const p of d.history || []) appendPoint(p);
      } else {
        setHistory(d.history || []);
        if (d.logs) D.setLogs(d.logs);
      }
      if (d.resumed && d.logs) for (const l of d.logs) D.addLog(l);
      renderSnapshot(d.snapshot);
      D.renderStats(true);
      D.renderFailures(true);
    });
    es.addEventListener("snapshot", (e) => {
      const d = parse(e);
      if (!d) return;
      if (d.point) appendPoint(d.point);
      renderSnapshot(d.snapshot);
    });
    es.addEventListener("log", (e) => {
      const l = parse(e);
      if (!l) return;
      D.addLog(l);
      D.scrollLogs();
    });
    es.addEventListener("error", () => {
      // EventSource retries by itself (with Last-Event-ID); just say so.
      D.connStatus(es.readyState === EventSource.CLOSED
        ? "Disconnected from Surge. Reload the page to reconnect."
        : "Connection lost, reconnecting…");
    });
    es.addEventListener("open", () => { $("#conn").hidden = true; });
  }

  Object.assign(D, { charts, connect });
})(window);
