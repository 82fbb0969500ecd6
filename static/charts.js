// Surge charts: small, dependency-free time-series line charts on <canvas>.
//
// Used by the live dashboard (app.js) and by the self-contained HTML report (report.js),
// so it is a classic script exposing `window.SurgeCharts` (the report inlines it in a
// <script> tag, where ES modules would not work offline from file://).
//
// Design notes
// - Data is kept in columns (times, runs, one array per series) so appending a point is O(1)
//   and drawing never allocates per point.
// - Drawing is coalesced to at most one frame per requestAnimationFrame, and the finished
//   chart is kept in an offscreen "base" canvas: hovering only blits it and draws the
//   crosshair, so mouse moves cost O(1) pixels work + O(log n) lookup.
// - Painting the base image (renderBase and the draw* methods) is in charts-draw.js, loaded
//   right after this file: the report inlines both as one script.
"use strict";

(function (global) {
  // Keep memory bounded on a page left open for days: drop the oldest tenth past this.
  const MAX_POINTS = 200000;

  const pad2 = (n) => String(n).padStart(2, "0");

  /** Local wall-clock HH:MM:SS of a Unix time in seconds. */
  function clock(t) {
    const d = new Date(t * 1000);
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }

  /** "m:ss" (or "h:mm:ss") of seconds since a run's start: the x axis of overlaid runs. */
  function elapsed(t) {
    const s = Math.max(0, Math.round(t));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h ? `${h}:${pad2(m)}:${pad2(s % 60)}` : `${m}:${pad2(s % 60)}`;
  }

  const numberFormats = new Map();
  /** Number with thousands separators and at most `digits` decimals (cached formatters). */
  function fmtNumber(v, digits) {
    let f = numberFormats.get(digits);
    if (!f) {
      f = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits });
      numberFormats.set(digits, f);
    }
    return f.format(v);
  }

  /** Sensible decimals for a value shown with its unit: more for small values. */
  function autoDigits(v) {
    const a = Math.abs(v);
    if (a === 0 || a >= 100) return 0;
    if (a >= 10) return 1;
    return 2;
  }


  /** Index of the last element of sorted `arr` that is <= x (or 0). */
  function bisect(arr, x, len) {
    let lo = 0;
    let hi = len - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (arr[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // ---------------------------------------------------------------- the shared time range
  // Every wall-clock chart of a page shows the same time range: a choice (this run, the last
  // 5 or 30 minutes, everything) or a zoom dragged on any chart; both survive a reload.
  const RANGE_KEY = "surge-chart-range";
  const MODES = { run: null, "5m": 300, "30m": 1800, all: null };
  const charts = new Set();
  const range = {
    mode: "run",
    zoom: null,
    load() {
      try {
        const v = JSON.parse(global.localStorage.getItem(RANGE_KEY) || "null");
        if (v && v.mode in MODES) this.mode = v.mode;
        if (v && Array.isArray(v.zoom) && v.zoom.length === 2 && v.zoom.every(Number.isFinite) &&
          v.zoom[1] > v.zoom[0]) this.zoom = v.zoom;
      } catch (_) { /* no storage: the defaults */ }
    },
    save() {
      try {
        global.localStorage.setItem(RANGE_KEY, JSON.stringify({ mode: this.mode, zoom: this.zoom }));
      } catch (_) { /* ignore */ }
    },
    changed() {
      this.save();
      for (const c of charts) {
        if (c.root.isConnected) c.invalidate();
        else charts.delete(c);
      }
      for (const f of this.listeners) f(this);
    },
    listeners: [],
    onChange(f) { this.listeners.push(f); },
    setMode(mode) {
      if (!(mode in MODES)) return;
      this.mode = mode;
      this.zoom = null;
      this.changed();
    },
    zoomTo(t0, t1) {
      if (!(t1 - t0 >= 1)) return;
      this.zoom = [t0, t1];
      this.changed();
    },
    reset() {
      this.zoom = null;
      this.changed();
    },
    /** Move the visible range by `dt` seconds (a zoom from then on). */
    pan(visible, dt) {
      this.zoom = [visible[0] + dt, visible[1] + dt];
      this.changed();
    },
    /** The visible [t0, t1] of data spanning `ext` ({t0, t1, runStart}). */
    visible(ext) {
      if (this.zoom) return this.zoom;
      const span = MODES[this.mode];
      if (span) return [Math.max(ext.t0, ext.t1 - span), ext.t1];
      if (this.mode === "run" && ext.runStart != null) return [Math.max(ext.t0, ext.runStart), ext.t1];
      return [ext.t0, ext.t1];
    },
  };
  range.load();

  // Lines hidden from the legend, per chart title: {title: {label: hidden}}.
  const HIDDEN_KEY = "surge-chart-lines";
  function readHidden() {
    try {
      const v = JSON.parse(global.localStorage.getItem(HIDDEN_KEY) || "{}");
      return v && typeof v === "object" ? v : {};
    } catch (_) {
      return {};
    }
  }
  function loadHidden(title, series) {
    const saved = readHidden()[title] || {};
    return series.map((s) => (s.label in saved ? !!saved[s.label] : !!s.hidden));
  }
  function saveHidden(title, series, hidden) {
    const all = readHidden();
    all[title] = Object.fromEntries(series.map((s, i) => [s.label, hidden[i]]));
    try { global.localStorage.setItem(HIDDEN_KEY, JSON.stringify(all)); } catch (_) { /* ignore */ }
  }

  /** Theme colours come from CSS custom properties so charts follow light/dark mode. */
  function readTheme(el) {
    const cs = getComputedStyle(el);
    const v = (name, fallback) => (cs.getPropertyValue(name).trim() || fallback);
    return {
      bg: v("--chart-bg", "#ffffff"),
      fg: v("--chart-fg", "#222222"),
      muted: v("--chart-muted", "#6b7280"),
      grid: v("--chart-grid", "rgba(0,0,0,0.08)"),
      marker: v("--chart-marker", "#9333ea"),
      drainBand: v("--chart-drain", "rgba(107,114,128,0.16)"),
      overloadBand: v("--chart-overload", "rgba(217,119,6,0.16)"),
      font: v("--chart-font", "12px system-ui, sans-serif"),
      colors: [v("--series-1", "#2563eb"), v("--series-2", "#dc2626"),
        v("--series-3", "#16a34a"), v("--series-4", "#d97706")],
    };
  }

  class LineChart {
    /**
     * @param {HTMLElement} container element the chart fills (its width; height from options)
     * @param {object} opts {title, unit, height, series: [{label, get(point) -> number|null,
     *   color?, unit?}], yDigits?}
     */
    constructor(container, opts) {
      this.opts = opts;
      this.series = opts.series;
      this.unit = opts.unit || "";
      this.times = [];
      this.runs = [];
      this.drains = [];
      this.spans = [];
      this.values = this.series.map(() => []);
      this.len = 0;
      this.bands = [];
      this.hoverX = null;
      this.frame = 0;
      this.baseDirty = true;

      this.root = document.createElement("figure");
      this.root.className = "chart";
      const bar = document.createElement("figcaption");
      bar.className = "chart-bar";
      const title = document.createElement("span");
      title.className = "chart-title";
      title.textContent = opts.title;
      this.saveBtn = document.createElement("button");
      this.saveBtn.type = "button";
      this.saveBtn.className = "btn btn-small chart-save";
      this.saveBtn.textContent = "Save as PNG";
      this.saveBtn.setAttribute("aria-label", `Save chart "${opts.title}" as PNG`);
      this.saveBtn.addEventListener("click", () => this.savePng());
      bar.append(title, this.saveBtn);

      this.wrap = document.createElement("div");
      this.wrap.className = "chart-canvas-wrap";
      this.canvas = document.createElement("canvas");
      this.canvas.setAttribute("role", "img");
      this.canvas.setAttribute("aria-label", `${opts.title} over time`);
      this.tip = document.createElement("div");
      this.tip.className = "chart-tip";
      this.tip.hidden = true;
      this.wrap.append(this.canvas, this.tip);
      this.root.append(bar, this.wrap);
      container.append(this.root);

      this.base = document.createElement("canvas");
      this.ctx = this.canvas.getContext("2d");
      this.bctx = this.base.getContext("2d");
      this.theme = readTheme(this.root);

      this.canvas.addEventListener("mousemove", (e) => this.onHover(e));
      this.canvas.addEventListener("mouseleave", () => this.onHover(null));
      // Wall-clock charts share the page's time range: drag to zoom, Shift+drag to pan,
      // double-click to reset (charts of elapsed time, the overlaid runs, keep their own).
      // A click on a legend entry hides or shows its line (kept per chart title).
      this.hidden = loadHidden(opts.title, this.series);
      this.canvas.addEventListener("click", (e) => this.onLegendClick(e));
      this.shared = !opts.elapsed;
      if (this.shared) {
        charts.add(this);
        this.canvas.addEventListener("mousedown", (e) => this.onDragStart(e));
        this.canvas.addEventListener("dblclick", () => range.reset());
      }
      // Touch: show the tooltip where the finger is (phones have no hover).
      this.canvas.addEventListener("touchstart", (e) => this.onHover(e.touches[0]), { passive: true });
      this.canvas.addEventListener("touchmove", (e) => this.onHover(e.touches[0]), { passive: true });

      if (global.ResizeObserver) {
        new ResizeObserver(() => this.resize()).observe(this.wrap);
      } else {
        global.addEventListener("resize", () => this.resize());
      }
      this.resize();
    }

    /** {t0, t1, runStart} of the points (runStart: the first time of the last run). */
    extent() {
      const n = this.len;
      if (!n) return null;
      const last = this.runs[n - 1];
      let i = n - 1;
      if (last) while (i > 0 && this.runs[i - 1] === last) i--;
      return { t0: this.times[0], t1: this.times[n - 1], runStart: last ? this.times[i] : null };
    }

    onLegendClick(e) {
      const r = this.canvas.getBoundingClientRect();
      const x = e.clientX - r.left;
      const y = e.clientY - r.top;
      const hit = (this.legendHits || []).find((h) => x >= h.x0 && x <= h.x1 && y >= 4 && y <= 24);
      if (!hit) return;
      this.toggleSeries(hit.s);
    }

    /** Hide or show series `s` (remembered for this chart's title). */
    toggleSeries(s) {
      this.hidden[s] = !this.hidden[s];
      saveHidden(this.opts.title, this.series, this.hidden);
      this.invalidate();
    }

    /** Time at CSS x of the last drawn view. */
    timeAt(x) {
      const v = this.view;
      const a = v.a;
      return v.t0 + ((x - a.left) / (a.right - a.left)) * (v.t1 - v.t0);
    }

    onDragStart(e) {
      if (e.button !== 0 || !this.view) return;
      e.preventDefault();
      const r = this.canvas.getBoundingClientRect();
      const x0 = e.clientX - r.left;
      const pan = e.shiftKey;
      const start = [this.view.t0, this.view.t1];
      const t0 = this.timeAt(x0);
      const move = (ev) => {
        const x = ev.clientX - r.left;
        if (pan) {
          const dt = this.timeAt(x0) - this.timeAt(x);
          range.pan(start, dt);
          return;
        }
        this.selection = [Math.min(x0, x), Math.max(x0, x)];
        this.schedule();
      };
      const up = (ev) => {
        global.removeEventListener("mousemove", move);
        global.removeEventListener("mouseup", up);
        const sel = this.selection;
        this.selection = null;
        this.schedule();
        if (!pan && sel && sel[1] - sel[0] > 4) {
          const t1 = this.timeAt(ev.clientX - r.left);
          range.zoomTo(Math.min(t0, t1), Math.max(t0, t1));
        }
      };
      global.addEventListener("mousemove", move);
      global.addEventListener("mouseup", up);
    }

    /** Replace all points (a history array). */
    setPoints(points) {
      this.times = [];
      this.runs = [];
      this.drains = [];
      this.spans = [];
      this.values = this.series.map(() => []);
      this.len = 0;
      for (const p of points) this.push(p);
      this.invalidate();
    }

    /** Append one point (must not be older than the last one). */
    append(point) {
      this.push(point);
      this.invalidate();
    }

    push(p) {
      if (this.len && p.time < this.times[this.len - 1]) return;
      this.times.push(p.time);
      this.runs.push(p.run == null ? 0 : p.run);
      const drain = !!p.drain;
      this.drains.push(drain);
      // A thinned point of older history stands for `span` seconds: no gap within that.
      this.spans.push(p.span || 0);
      for (let s = 0; s < this.series.length; s++) {
        const v = drain && !this.series[s].keepInDrain ? null : this.series[s].get(p);
        this.values[s].push(v == null || !Number.isFinite(v) ? NaN : v);
      }
      this.len++;
      if (this.len > MAX_POINTS) {
        const drop = Math.floor(MAX_POINTS / 10);
        this.times.splice(0, drop);
        this.runs.splice(0, drop);
        this.drains.splice(0, drop);
        this.spans.splice(0, drop);
        for (const col of this.values) col.splice(0, drop);
        this.len -= drop;
      }
    }

    /**
     * Shade time ranges: [{from, to, label}] in Unix seconds (the generator's overload
     * ranges); replaces the previous ones.
     */
    setBands(bands) {
      const next = (bands || []).map((b) => ({ from: b.from, to: b.to, label: b.label || "" }));
      const same = next.length === this.bands.length &&
        next.every((b, i) => b.from === this.bands[i].from && b.to === this.bands[i].to);
      this.bands = next;
      if (!same) this.invalidate();
    }

    /** Vertical markers: [{time, label}] (the load's edits, stages, resets). */
    setMarks(marks) {
      const next = (marks || []).map((m) => ({ time: m.time, label: m.label || "" }));
      const same = next.length === (this.marks || []).length &&
        next.every((m, i) => m.time === this.marks[i].time && m.label === this.marks[i].label);
      this.marks = next;
      if (!same) this.invalidate();
    }

    /** Theme changed (light/dark): re-read colours and redraw. */
    refreshTheme() {
      this.theme = readTheme(this.root);
      this.invalidate();
    }

    /** Data or size changed: redraw the base image on the next animation frame. */
    invalidate() {
      this.baseDirty = true;
      this.schedule();
    }

    schedule() {
      if (this.frame) return;
      const raf = global.requestAnimationFrame || ((f) => setTimeout(f, 16));
      this.frame = raf(() => {
        this.frame = 0;
        this.paint();
      });
    }

    resize() {
      const dpr = global.devicePixelRatio || 1;
      const w = Math.max(200, this.wrap.clientWidth || 600);
      const h = this.opts.height || (w < 500 ? 220 : 280);
      this.cssW = w;
      this.cssH = h;
      this.dpr = dpr;
      for (const c of [this.canvas, this.base]) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
      }
      this.canvas.style.height = `${h}px`;
      this.invalidate();
    }

    /** Draws synchronously now (used by the report, benchmarks and PNG export). */
    drawNow() {
      this.renderBase();
      this.baseDirty = false;
      this.composite();
    }

    paint() {
      // A hidden tab has zero width: skip the work; resize() redraws when it shows.
      if (!this.wrap.clientWidth) return;
      if (this.baseDirty) {
        this.renderBase();
        this.baseDirty = false;
      }
      this.composite();
    }

    composite() {
      const ctx = this.ctx;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.base, 0, 0);
      if (this.selection && this.view) {
        const a = this.view.a;
        ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
        ctx.fillStyle = this.theme.grid;
        const x0 = Math.max(a.left, this.selection[0]);
        const x1 = Math.min(a.right, this.selection[1]);
        ctx.fillRect(x0, a.top, Math.max(1, x1 - x0), a.bottom - a.top);
      }
      if (this.hoverX != null) this.drawHover();
    }

    /** Plot area (CSS pixels) for the current size. */
    area() {
      const left = this.cssW < 500 ? 48 : 64;
      return { left, top: 34, right: this.cssW - 12, bottom: this.cssH - 24 };
    }

    onHover(e) {
      if (!e || !this.len) {
        this.hoverX = null;
        this.tip.hidden = true;
        this.schedule();
        return;
      }
      const r = this.canvas.getBoundingClientRect();
      this.hoverX = e.clientX - r.left;
      this.schedule();
    }

    drawHover() {
      const v = this.view;
      if (!v || !this.len) return;
      const a = v.a;
      const x = Math.min(Math.max(this.hoverX, a.left), a.right);
      const t = v.t0 + ((x - a.left) / (a.right - a.left)) * (v.t1 - v.t0);
      let i = bisect(this.times, t, this.len);
      if (i + 1 < this.len && Math.abs(this.times[i + 1] - t) < Math.abs(this.times[i] - t)) i++;
      const px = a.left + ((this.times[i] - v.t0) / (v.t1 - v.t0)) * (a.right - a.left);
      const ctx = this.ctx;
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      ctx.strokeStyle = this.theme.muted;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(px) + 0.5, a.top);
      ctx.lineTo(Math.round(px) + 0.5, a.bottom);
      ctx.stroke();
      this.renderTip(i, px);
    }

    renderTip(i, px) {
      const a = this.view.a;
      const tip = this.tip;
      tip.textContent = "";
      const head = document.createElement("div");
      head.className = "chart-tip-time";
      head.textContent = (this.opts.elapsed ? `+${elapsed(this.times[i])}` : clock(this.times[i])) + (this.runs[i] ? `  ·  Run #${this.runs[i]}` : "");
      tip.append(head);
      if (this.drains[i]) {
        const note = document.createElement("div");
        note.className = "chart-tip-note";
        note.textContent = "Stopping: in-flight requests finishing";
        tip.append(note);
      }
      for (let s = 0; s < this.series.length; s++) {
        if (this.hidden[s]) continue;
        const val = this.values[s][i];
        const row = document.createElement("div");
        const sw = document.createElement("span");
        sw.className = "chart-tip-swatch";
        sw.style.background = this.color(s);
        const unit = this.series[s].unit || this.unit;
        row.append(sw, `${this.series[s].label}: ` +
          (Number.isNaN(val) ? "–" : `${fmtNumber(val, autoDigits(val))} ${unit}`));
        tip.append(row);
      }
      tip.hidden = false;
      // Keep the tooltip inside the chart: flip to the left of the line near the right edge.
      const w = tip.offsetWidth;
      const left = px + 12 + w > this.cssW ? px - 12 - w : px + 12;
      tip.style.left = `${Math.max(0, left)}px`;
      tip.style.top = `${a.top}px`;
    }

    /** Download the chart (without the hover crosshair) as a PNG file. */
    savePng() {
      this.renderBase();
      this.baseDirty = false;
      const name = `surge-${this.opts.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")}.png`;
      this.base.toBlob((blob) => {
        if (!blob) return;
        const url = URL.createObjectURL(blob);
        const link = document.createElement("a");
        link.href = url;
        link.download = name;
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      }, "image/png");
    }
  }

  /** The three standard dashboard charts over HISTORY_POINTs, in Locust's order. */
  function standardCharts(container) {
    return [
      new LineChart(container, {
        title: "Total Requests per Second",
        unit: "req/s",
        series: [
          // What finishes while stopping is real throughput: drawn over the band.
          { label: "RPS", get: (p) => p.current_rps, unit: "req/s", keepInDrain: true },
          { label: "Failures/s", get: (p) => p.current_fail_per_sec, unit: "fail/s", keepInDrain: true },
        ],
      }),
      new LineChart(container, {
        title: "Response Times (ms)",
        unit: "ms",
        series: [
          { label: "50th percentile", get: (p) => p.current_p50_ms },
          { label: "90th", get: (p) => p.current_p90_ms, hidden: true, color: "#0891b2" },
          // Amber, not red: red means failures on this dashboard.
          { label: "95th percentile", get: (p) => p.current_p95_ms, slot: 3 },
          { label: "99th", get: (p) => p.current_p99_ms, hidden: true, color: "#7c3aed" },
          { label: "99.9th", get: (p) => p.current_p999_ms, hidden: true, color: "#be185d" },
        ],
      }),
      new LineChart(container, {
        title: "Number of Users",
        unit: "users",
        series: [{ label: "Users", get: (p) => p.user_count, keepInDrain: true }],
      }),
    ];
  }

  global.SurgeCharts = { LineChart, standardCharts, clock, elapsed, fmtNumber, autoDigits, bisect, range, readTheme };
})(window);