// Surge live dashboard: chosen endpoints' charts on the Charts tab (up to 4, picked here or
// by a click on a name in the statistics table). Their req/s, failures/s and p95 over the
// last 10 minutes are recorded from each snapshot's per-endpoint figures while the page is
// open (the server keeps the Aggregated history only); their response-time distribution
// (the latency-percentile curve HdrHistogram users read, log scale) comes from their exact
// histograms, /api/distribution, refreshed every 5 s while the tab is open.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, state, fmtNumber } = D;
  const { LineChart, readTheme } = global.SurgeCharts;
  const PICK_KEY = "surge-endpoints";
  const MAX_PICKS = 4;
  // The last 10 minutes of at most 50 names: the page's memory is flat after 10 minutes.
  const MAX_NAMES = 50;
  const MAX_POINTS = 600;
  const COLORS = ["#2563eb", "#d97706", "#16a34a", "#9333ea"];

  const AGG = "Aggregated";
  const keyOf = (e) => `${e.method} ${e.name}`;
  /** Per endpoint key: Map time -> {rps, fps, p95}, in time order. */
  const series = new Map();
  let run = null;
  let lastTime = null;
  let picks = [AGG];
  try {
    const v = JSON.parse(localStorage.getItem(PICK_KEY) || "null");
    if (Array.isArray(v) && v.length && v.every((k) => typeof k === "string")) picks = v.slice(0, MAX_PICKS);
  } catch (_) { /* default */ }

  const box = $("#endpoint-charts");
  let charts = [];
  const range = D.loadExtent;

  /** The three charts, one line per picked endpoint. */
  function buildCharts() {
    for (const c of charts) c.root.remove();
    const lines = (field) => picks.map((k, i) => ({ label: k, get: (p) => p.v[i] && p.v[i][field], color: COLORS[i], keepInDrain: true }));
    charts = [
      new LineChart(box, { title: "Endpoints: requests per second", unit: "req/s", range, series: lines("rps") }),
      new LineChart(box, { title: "Endpoints: failures per second", unit: "fail/s", range, series: lines("fps") }),
      new LineChart(box, { title: "Endpoints: 95th percentile (ms)", unit: "ms", range, series: lines("p95") }),
    ];
    showSeries();
  }

  function record(key, time, figures) {
    let m = series.get(key);
    if (!m) {
      if (series.size >= MAX_NAMES) return;
      m = new Map();
      series.set(key, m);
    }
    m.set(time, figures);
    if (m.size > MAX_POINTS) {
      let drop = MAX_POINTS / 10;
      for (const t of m.keys()) {
        if (drop-- <= 0) break;
        m.delete(t);
      }
    }
  }

  const figuresOf = (e) => ({ rps: e.current_rps, fps: e.current_fail_per_sec, p95: e.current_percentiles[5] });

  /** One chart point of the picked endpoints at `time`. */
  const row = (time) => ({ time, run, v: picks.map((k) => (series.get(k) || new Map()).get(time) || null) });

  function showSeries() {
    const times = new Set();
    for (const k of picks) for (const t of (series.get(k) || new Map()).keys()) times.add(t);
    const rows = [...times].sort((a, b) => a - b).map(row);
    for (const c of charts) c.setPoints(rows);
  }

  function renderPicker(s) {
    const sel = $("#endpoint-pick");
    const keys = s.entries.map(keyOf).filter((k) => !picks.includes(k));
    const sig = `${keys.join("\u0001")}|${picks.join("\u0001")}`;
    if (sel.dataset.sig === sig) return;
    sel.dataset.sig = sig;
    sel.textContent = "";
    sel.append(new Option(picks.length >= MAX_PICKS ? `At most ${MAX_PICKS} at once` : "Add an endpoint…", ""));
    if (!picks.includes(AGG)) sel.append(new Option("Aggregated (every request)", AGG));
    for (const k of keys) sel.append(new Option(k, k));
    sel.disabled = picks.length >= MAX_PICKS;
    const chosen = $("#endpoint-picked");
    chosen.textContent = "";
    picks.forEach((k, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small endpoint-chip";
      b.style.borderColor = COLORS[i];
      b.textContent = `${k} ✕`;
      b.setAttribute("aria-label", `Remove ${k} from the charts`);
      b.addEventListener("click", () => setPicks(picks.filter((x) => x !== k)));
      chosen.append(b);
    });
  }

  function setPicks(next) {
    picks = next.length ? next.slice(-MAX_PICKS) : [AGG];
    try { localStorage.setItem(PICK_KEY, JSON.stringify(picks)); } catch (_) { /* ignore */ }
    $("#endpoint-pick").dataset.sig = "";
    if (state.snap) renderPicker(state.snap);
    buildCharts();
    loadDistribution();
  }

  /** Add endpoint `key` (`GET /orders`, or Aggregated) to the charts. */
  function pick(key) {
    if (!key || picks.includes(key)) return;
    setPicks(picks.concat(key));
  }
  $("#endpoint-pick").addEventListener("change", (e) => pick(e.target.value));
  D.pickEndpoint = pick;
  /** The endpoint charts (live.js shades them like the others). */
  D.endpointCharts = () => charts;

  /** Called with every snapshot (live.js). */
  D.renderEndpoint = function (s) {
    if (run !== s.run) {
      run = s.run;
      series.clear();
      lastTime = null;
      showSeries();
    }
    const time = Math.floor(s.time);
    if (s.state !== "ready" && time !== lastTime) {
      lastTime = time;
      record(AGG, time, figuresOf(s.total));
      for (const e of s.entries) record(keyOf(e), time, figuresOf(e));
      const p = row(time);
      for (const c of charts) c.append(p);
    }
    renderPicker(s);
    for (const c of charts) c.setMarks(s.marks);
  };

  // ---------------------------------------------------------------- distribution
  const canvas = $("#distribution");
  let dists = [];

  async function loadDistribution() {
    const one = async (k) => {
      const i = k.indexOf(" ");
      const q = k === AGG ? "" : `?method=${encodeURIComponent(k.slice(0, i))}&name=${encodeURIComponent(k.slice(i + 1))}`;
      try {
        const r = await fetch(`/api/distribution${q}`, { headers: { accept: "application/json" } });
        return r.ok ? { key: k, ...(await r.json()) } : null;
      } catch (_) {
        return null;
      }
    };
    dists = (await Promise.all(picks.map(one))).filter(Boolean);
    drawDistribution();
  }

  /** x of quantile q: log10(1 / (1 - q)). */
  const xq = (q) => Math.log10(1 / Math.max(1e-6, 1 - q));

  function drawDistribution() {
    const w = canvas.parentElement.clientWidth;
    if (!w) return;
    const h = 260;
    const dpr = global.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext("2d");
    const th = readTheme(canvas);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = th.bg;
    ctx.fillRect(0, 0, w, h);
    ctx.font = th.font;
    const a = { left: 64, right: w - 16, top: 20, bottom: h - 28 };
    const all = dists.flatMap((d) => d.points);
    ctx.fillStyle = th.muted;
    if (!all.length) {
      ctx.textAlign = "center";
      ctx.fillText("No requests yet", w / 2, h / 2);
      $("#distribution-note").textContent = "";
      canvas.dataset.points = "0";
      return;
    }
    const xmax = xq(0.99999);
    const ymax = Math.max(...all.map((p) => p.ms)) || 1;
    const X = (q) => a.left + (Math.min(xq(q), xmax) / xmax) * (a.right - a.left);
    const Y = (ms) => a.bottom - (ms / ymax) * (a.bottom - a.top);
    ctx.strokeStyle = th.grid;
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
    ctx.lineWidth = 1.5;
    for (const d of dists) {
      ctx.strokeStyle = COLORS[picks.indexOf(d.key) % COLORS.length];
      ctx.beginPath();
      d.points.forEach((p, i) => (i ? ctx.lineTo(X(p.q), Y(p.ms)) : ctx.moveTo(X(p.q), Y(p.ms))));
      ctx.stroke();
    }
    $("#distribution-note").textContent = dists.map((d) => {
      const max = d.points.length ? d.points[d.points.length - 1].ms : 0;
      return `${d.key}: ${fmtNumber(d.count, 0)} requests, max ${fmtNumber(max, max >= 100 ? 0 : 2)} ms`;
    }).join(" · ");
    canvas.dataset.points = String(all.length);
  }

  buildCharts();
  setInterval(() => {
    if (state.activeTab === "charts" && state.snap && state.snap.state !== "ready") loadDistribution();
  }, 5000);
  if (global.ResizeObserver) new ResizeObserver(() => drawDistribution()).observe(canvas.parentElement);
  D.loadDistribution = loadDistribution;
})(window);
