// Surge live dashboard: one endpoint's charts on the Charts tab. Its req/s, failures/s and
// p95 over the last 10 minutes are recorded from each snapshot's per-endpoint figures while
// the page is open (the server keeps the Aggregated history only); its response-time distribution
// (the latency-percentile curve HdrHistogram users read, log scale) comes from its exact
// histogram, /api/distribution, refreshed every 5 s while the tab is open.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, state, fmtNumber } = D;
  const { LineChart } = global.SurgeCharts;
  const PICK_KEY = "surge-endpoint";
  // The last 10 minutes of at most 50 names: the page's memory is flat after 10 minutes.
  const MAX_NAMES = 50;
  const MAX_POINTS = 600;

  const AGG = "\u0000Aggregated";
  const keyOf = (e) => `${e.method} ${e.name}`;
  /** Per endpoint key: points {time, run, rps, fps, p95}. */
  const series = new Map();
  let run = null;
  let picked = AGG;
  try { picked = localStorage.getItem(PICK_KEY) || AGG; } catch (_) { /* default */ }

  const box = $("#endpoint-charts");
  const rate = new LineChart(box, {
    title: "Endpoint: requests per second",
    unit: "req/s",
    range: () => (D.charts && D.charts[0] ? D.charts[0].extent() : null),
    series: [
      { label: "RPS", get: (p) => p.rps, keepInDrain: true },
      { label: "Failures/s", get: (p) => p.fps, keepInDrain: true },
    ],
  });
  const p95 = new LineChart(box, {
    title: "Endpoint: 95th percentile (ms)",
    unit: "ms",
    range: () => (D.charts && D.charts[0] ? D.charts[0].extent() : null),
    series: [{ label: "95th percentile", get: (p) => p.p95, slot: 3 }],
  });

  function record(key, p) {
    let list = series.get(key);
    if (!list) {
      if (series.size >= MAX_NAMES) return;
      list = [];
      series.set(key, list);
    }
    if (list.length && list[list.length - 1].time >= p.time) return;
    list.push(p);
    if (list.length > MAX_POINTS) list.splice(0, MAX_POINTS / 10);
  }

  function point(s, e) {
    return {
      time: Math.floor(s.time), run: s.run, drain: false,
      rps: e.current_rps, fps: e.current_fail_per_sec, p95: e.current_percentiles[5],
    };
  }

  function renderPicker(s) {
    const sel = $("#endpoint-pick");
    const keys = s.entries.map(keyOf);
    const sig = keys.join("\u0001");
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.textContent = "";
    sel.append(new Option("Aggregated (every request)", AGG));
    for (const k of keys) sel.append(new Option(k, k));
    if (picked !== AGG && !keys.includes(picked)) sel.append(new Option(`${picked} (not in this test)`, picked));
    sel.value = picked;
  }

  function showSeries() {
    const list = series.get(picked) || [];
    rate.setPoints(list);
    p95.setPoints(list);
  }

  /** Called with every snapshot (live.js). */
  D.renderEndpoint = function (s) {
    if (run !== s.run) {
      run = s.run;
      series.clear();
    }
    if (s.state !== "ready") {
      record(AGG, point(s, s.total));
      for (const e of s.entries) record(keyOf(e), point(s, e));
    }
    renderPicker(s);
    const list = series.get(picked);
    const last = list && list[list.length - 1];
    if (last && rate.len && rate.times[rate.len - 1] < last.time) {
      rate.append(last);
      p95.append(last);
    } else if (list && list.length !== rate.len) {
      showSeries();
    }
    rate.setMarks(s.marks);
    p95.setMarks(s.marks);
  };

  /** Show endpoint `key` (`GET /orders`, or Aggregated). */
  function pick(key) {
    picked = key;
    try { localStorage.setItem(PICK_KEY, picked); } catch (_) { /* ignore */ }
    const sel = $("#endpoint-pick");
    if ([...sel.options].some((o) => o.value === key)) sel.value = key;
    showSeries();
    loadDistribution();
  }
  $("#endpoint-pick").addEventListener("change", (e) => pick(e.target.value));
  D.pickEndpoint = pick;

  // ---------------------------------------------------------------- distribution
  const canvas = $("#distribution");
  let dist = null;

  async function loadDistribution() {
    const q = picked === AGG ? "" : (() => {
      const i = picked.indexOf(" ");
      return `?method=${encodeURIComponent(picked.slice(0, i))}&name=${encodeURIComponent(picked.slice(i + 1))}`;
    })();
    try {
      const r = await fetch(`/api/distribution${q}`, { headers: { accept: "application/json" } });
      dist = r.ok ? await r.json() : null;
    } catch (_) {
      dist = null;
    }
    drawDistribution();
  }

  /** x of quantile q: log10(1 / (1 - q)) (0 at the median's 0.3), the max at the end. */
  const xq = (q) => Math.log10(1 / Math.max(1e-6, 1 - q));

  function drawDistribution() {
    const w = canvas.parentElement.clientWidth || 600;
    if (!w) return;
    const h = 260;
    const dpr = global.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext("2d");
    const cs = getComputedStyle(canvas);
    const v = (n, f) => cs.getPropertyValue(n).trim() || f;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = v("--chart-bg", "#fff");
    ctx.fillRect(0, 0, w, h);
    ctx.font = v("--chart-font", "12px sans-serif");
    const a = { left: 64, right: w - 16, top: 20, bottom: h - 28 };
    const pts = (dist && dist.points) || [];
    ctx.fillStyle = v("--chart-muted", "#6b7280");
    if (!pts.length) {
      ctx.textAlign = "center";
      ctx.fillText("No requests yet", w / 2, h / 2);
      $("#distribution-note").textContent = "";
      return;
    }
    const xmax = xq(0.99999);
    const ymax = Math.max(...pts.map((p) => p.ms)) || 1;
    const X = (q) => a.left + (Math.min(xq(q), xmax) / xmax) * (a.right - a.left);
    const Y = (ms) => a.bottom - (ms / ymax) * (a.bottom - a.top);
    ctx.strokeStyle = v("--chart-grid", "rgba(0,0,0,.08)");
    ctx.textAlign = "center";
    for (const [q, label] of [[0.5, "50%"], [0.9, "90%"], [0.99, "99%"], [0.999, "99.9%"], [0.9999, "99.99%"], [0.99999, "99.999%"]]) {
      const x = Math.round(X(q)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, a.top);
      ctx.lineTo(x, a.bottom);
      ctx.stroke();
      ctx.fillText(label, x, a.bottom + 16);
    }
    ctx.textAlign = "right";
    for (let i = 0; i <= 4; i++) {
      const ms = (ymax * i) / 4;
      ctx.fillText(fmtNumber(ms, ms >= 100 ? 0 : 2), a.left - 6, Y(ms) + 4);
    }
    ctx.textAlign = "left";
    ctx.fillText("ms", 4, a.top - 6);
    ctx.strokeStyle = v("--series-1", "#2563eb");
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(X(p.q), Y(p.ms)) : ctx.moveTo(X(p.q), Y(p.ms))));
    ctx.stroke();
    const max = pts[pts.length - 1].ms;
    $("#distribution-note").textContent =
      `${dist.name === "Aggregated" && !dist.method ? "Aggregated" : `${dist.method} ${dist.name}`}: ` +
      `${fmtNumber(dist.count, 0)} requests, max ${fmtNumber(max, max >= 100 ? 0 : 2)} ms (percentile of requests on a log scale)`;
    canvas.dataset.points = String(pts.length);
  }

  setInterval(() => {
    if (state.activeTab === "charts" && state.snap && state.snap.state !== "ready") loadDistribution();
  }, 5000);
  if (global.ResizeObserver) new ResizeObserver(() => drawDistribution()).observe(canvas.parentElement);
  D.loadDistribution = loadDistribution;
})(window);
