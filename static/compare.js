// Surge comparisons: the before/after table with deltas and verdicts, the overlaid charts
// (time since start) and the N-run series. Shared by the dashboard's Compare tab and the
// self-contained HTML report, so it is a classic script exposing `window.SurgeCompare`.
"use strict";

(function (global) {
  const { LineChart, fmtNumber, autoDigits } = global.SurgeCharts;
  const METRICS = [
    ["rps", "req/s"], ["fail_pct", "fail %"], ["p50", "p50 (ms)"], ["p95", "p95 (ms)"],
    ["p99", "p99 (ms)"], ["max", "max (ms)"],
  ];
  const VERDICTS = {
    better: "Better", worse: "Worse", mixed: "Mixed", no_significant_change: "No significant change",
    only_before: "Only in before", only_after: "Only in after",
  };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  const fmt = (v) => (v == null ? "–" : fmtNumber(v, autoDigits(v)));
  const signed = (v, digits) => (v == null ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : "±"}${fmtNumber(Math.abs(v), digits)}`);

  function verdictPill(v) {
    return el("span", `verdict verdict-${v}`, VERDICTS[v] || v);
  }

  /** One metric cell: "before → after" and "Δ (Δ%)" coloured by better/worse. */
  function cell(d) {
    const td = el("td", "num cmp-cell");
    td.append(el("div", "cmp-vals", `${fmt(d.before)} → ${fmt(d.after)}`));
    if (d.change !== "unknown") {
      const pct = d.delta_pct == null ? (d.delta ? "new" : "0 %") : `${signed(d.delta_pct, 1)} %`;
      const line = el("div", `delta delta-${d.change}`, `${signed(d.delta, autoDigits(d.delta || 0))} (${pct})`);
      line.title = d.change === "same" ? "within the noise threshold" : d.change;
      td.append(line);
    }
    return td;
  }

  function table(c) {
    const wrap = el("div", "table-wrap");
    const t = el("table", "data compare-table");
    t.setAttribute("aria-label", "Comparison per endpoint");
    const head = el("tr");
    for (const h of ["Type", "Name", "Verdict", ...METRICS.map((m) => m[1])]) {
      const th = el("th", null, h);
      th.scope = "col";
      head.append(th);
    }
    t.createTHead().append(head);
    const body = t.createTBody();
    const row = (e, section) => {
      const tr = el("tr");
      tr.dataset.verdict = e.verdict;
      tr.append(el("td", null, e.method), el("td", "name", e.name));
      const v = el("td");
      v.append(verdictPill(e.verdict));
      v.title = e.reason;
      tr.append(v);
      for (const [key] of METRICS) tr.append(cell(e[key]));
      section.append(tr);
    };
    for (const e of c.endpoints) row(e, body);
    row({ ...c.total, method: "", name: "Aggregated" }, t.createTFoot());
    wrap.append(t);
    return wrap;
  }

  /** Both runs' series on one time axis: seconds since each run's start. */
  function overlay(before, after) {
    const points = new Map();
    const add = (side, run) => {
      const hist = run.history || [];
      const t0 = Math.floor(run.summary ? run.summary.started_at : (hist[0] || {}).time || 0);
      for (const p of hist) {
        const t = p.time - t0;
        if (t < 0) continue;
        const q = points.get(t) || { time: t, run: 0 };
        q[`${side}_rps`] = p.current_rps;
        q[`${side}_p95`] = p.current_p95_ms;
        points.set(t, q);
      }
    };
    add("b", before);
    add("a", after);
    return [...points.values()].sort((x, y) => x.time - y.time);
  }

  function charts(container, before, after) {
    const holder = el("div", "charts compare-charts");
    container.append(holder);
    const bt = before.title || "before";
    const at = after.title || "after";
    const opts = (title, unit, key) => ({
      title, unit, elapsed: true,
      series: [
        { label: `Before: ${bt}`, get: (p) => p[`b_${key}`], slot: 0 },
        { label: `After: ${at}`, get: (p) => p[`a_${key}`], slot: 2 },
      ],
    });
    const points = overlay(before, after);
    for (const c of [
      new LineChart(holder, opts("Requests per second (time since start)", "req/s", "rps")),
      new LineChart(holder, opts("95th percentile response time (ms)", "ms", "p95")),
    ]) c.setPoints(points);
  }

  /**
   * Render a comparison into `container`: what the runs were asked to do differently, the
   * verdict with its reason and counts, the table per endpoint and the overlaid charts.
   * @param data {before: {title, summary, history}, after: {...}, differences: [string],
   *   comparison}
   */
  function renderComparison(container, data) {
    container.textContent = "";
    const c = data.comparison;
    const differences = data.differences || [];
    if (differences.length) {
      const d = el("div", "compare-differs", `Runs differ: ${differences.join("; ")}`);
      d.id = "compare-differences";
      d.setAttribute("role", "note");
      container.append(d);
    }
    const head = el("div", "compare-head");
    const v = verdictPill(c.verdict);
    v.classList.add("verdict-big");
    v.id = "compare-verdict";
    const k = c.counts;
    const info = el("div", "compare-info");
    info.append(
      el("div", "compare-title", `${data.before.title} → ${data.after.title}`),
      el("div", "compare-reason", `${VERDICTS[c.verdict] || c.verdict}: ${c.reason}`),
      el("div", "muted", `Endpoints: ${k.better} better, ${k.worse} worse, ${k.mixed} mixed, ` +
        `${k.unchanged} unchanged, ${k.only_before} only before, ${k.only_after} only after. ` +
        `Noise threshold ±${fmtNumber(c.noise_pct, 2)} %.`),
    );
    head.append(v, info);
    container.append(head, table(c));
    serverPeaks(container, data.server_peaks || []);
    charts(container, data.before, data.after);
  }

  /** Each server view's peak in both runs (the target's /metrics), when both scraped. */
  function serverPeaks(container, rows) {
    if (!rows.length) return;
    const val = (v, unit) => `${fmtNumber(v, v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${unit}`;
    const t = el("table", "data compare-server");
    t.id = "compare-server";
    const cap = el("caption", "", "Server peaks (the target's /metrics)");
    const head = el("tr");
    for (const h of ["View", "before", "after", "Δ%"]) head.append(el("th", "", h));
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const r of rows) {
      const tr = el("tr");
      tr.append(el("td", "name", r.name), el("td", "num", val(r.before, r.unit)),
        el("td", "num", val(r.after, r.unit)),
        el("td", "num", r.change_pct == null ? "–" : `${r.change_pct >= 0 ? "+" : ""}${fmtNumber(r.change_pct, 1)} %`));
      body.append(tr);
    }
    t.append(cap, thead, body);
    const wrap = el("div", "table-wrap");
    wrap.append(t);
    container.append(wrap);
  }

  /** A small bar chart of one value per run (the series' x axis is the run label). */
  function bars(container, title, rows, get, unit, color) {
    const fig = el("figure", "chart series-chart");
    fig.append(el("figcaption", "chart-bar chart-title", title));
    const canvas = el("canvas");
    fig.append(canvas);
    container.append(fig);
    const draw = () => {
      const css = getComputedStyle(container);
      const w = Math.max(240, fig.clientWidth - 16);
      const h = 180;
      const dpr = global.devicePixelRatio || 1;
      canvas.width = w * dpr;
      canvas.height = h * dpr;
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
      const ctx = canvas.getContext("2d");
      ctx.scale(dpr, dpr);
      ctx.font = css.getPropertyValue("--chart-font") || "12px sans-serif";
      const max = Math.max(1e-9, ...rows.map((r) => get(r) || 0));
      const slot = (w - 20) / rows.length;
      rows.forEach((r, i) => {
        const v = get(r);
        const bh = v == null ? 0 : (v / max) * (h - 50);
        const x = 10 + i * slot + slot * 0.2;
        ctx.fillStyle = css.getPropertyValue(color).trim() || "#2563eb";
        ctx.fillRect(x, h - 24 - bh, slot * 0.6, bh);
        ctx.fillStyle = css.getPropertyValue("--chart-fg").trim() || "#222";
        ctx.textAlign = "center";
        ctx.fillText(v == null ? "–" : `${fmtNumber(v, autoDigits(v))} ${unit}`, x + slot * 0.3, h - 28 - bh);
        ctx.fillStyle = css.getPropertyValue("--chart-muted").trim() || "#666";
        ctx.fillText(r.label.length > 18 ? `${r.label.slice(0, 17)}…` : r.label, x + slot * 0.3, h - 8);
      });
    };
    draw();
    if (global.ResizeObserver) new ResizeObserver(draw).observe(fig);
  }

  /** Render an N-run series: one table and charts of req/s and p95 against the run label. */
  function renderSeries(container, data) {
    container.textContent = "";
    const rows = data.series;
    const wrap = el("div", "table-wrap");
    const t = el("table", "data series-table");
    const head = el("tr");
    for (const h of ["Run", "Label", "Requests", "req/s", "Δ% req/s", "fail %", "p50 (ms)", "p95 (ms)", "Δ% p95", "vs first"]) {
      head.append(el("th", null, h));
    }
    t.createTHead().append(head);
    const body = t.createTBody();
    for (const r of rows) {
      const tr = el("tr");
      const pct = (d) => {
        const td = el("td", `num delta delta-${d.change}`, d.delta_pct == null ? "–" : `${signed(d.delta_pct, 1)} %`);
        return td;
      };
      const v = el("td");
      v.append(verdictPill(r.verdict_vs_first));
      tr.append(el("td", "num", `#${r.id}`), el("td", "name", r.label), el("td", "num", fmtNumber(r.requests, 0)),
        el("td", "num", fmt(r.rps)), pct(r.rps_vs_first), el("td", "num", fmt(r.fail_pct)),
        el("td", "num", fmt(r.p50)), el("td", "num", fmt(r.p95)), pct(r.p95_vs_first), v);
      body.append(tr);
    }
    wrap.append(t);
    const grid = el("div", "charts series-charts");
    container.append(wrap, grid);
    bars(grid, "Requests per second by run", rows, (r) => r.rps, "req/s", "--series-1");
    bars(grid, "95th percentile (ms) by run", rows, (r) => r.p95, "ms", "--series-4");
  }

  global.SurgeCompare = { renderComparison, renderSeries, verdictPill, VERDICTS };
})(window);
