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
// - With more points than pixel columns, each column draws one vertical min..max segment
//   (min/max decimation): cost stays linear in points, spikes stay visible.
// - Shaded bands mark time that needs a caution: the drain of a stopping test (points with
//   `drain`, whose latency lines are not drawn: only the slowest in-flight requests finish
//   then, and the current percentiles leave those seconds out) and
//   the ranges given to setBands (the generator's overload ranges).
"use strict";

(function (global) {
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400];
  // A gap longer than this many seconds between two points breaks the line (server restart,
  // browser asleep) instead of drawing a misleading straight segment across it; thinned
  // older points (with a `span`) allow their span on top.
  const GAP_SECONDS = 5;
  // Keep memory bounded on a page left open for days: drop the oldest tenth past this.
  const MAX_POINTS = 200000;
  const LINE_WIDTH = 1.5;
  // Segments per stroked sub-path (see drawLines).
  const CHUNK = 16;

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

  /** "Nice" step (1, 2, 5 × 10^k) so that `max` spans about `count` ticks. */
  function niceStep(max, count) {
    const raw = max / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    return nice * mag;
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
      if (this.hoverX != null) this.drawHover();
    }

    /** Plot area (CSS pixels) for the current size. */
    area() {
      const left = this.cssW < 500 ? 48 : 64;
      return { left, top: 34, right: this.cssW - 12, bottom: this.cssH - 24 };
    }

    /** Visible y range: 0..nice max over all series. */
    yScale() {
      let max = 0;
      for (const col of this.values) {
        for (let i = 0; i < this.len; i++) {
          const v = col[i];
          if (v > max) max = v;
        }
      }
      if (max <= 0) max = 1;
      const step = niceStep(max, 4);
      return { max: Math.ceil(max / step) * step, step };
    }

    renderBase() {
      const ctx = this.bctx;
      const th = this.theme;
      const a = this.area();
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      ctx.fillStyle = th.bg;
      ctx.fillRect(0, 0, this.cssW, this.cssH);
      ctx.font = th.font;
      ctx.textBaseline = "middle";
      this.drawLegend(ctx, a);

      const n = this.len;
      const t0 = n ? this.times[0] : Date.now() / 1000 - 60;
      let t1 = n ? this.times[n - 1] : t0 + 60;
      if (t1 - t0 < 10) t1 = t0 + 10; // a lone point still gets a readable axis
      const ys = this.yScale();
      this.view = { t0, t1, a, ys };
      const xOf = (t) => a.left + ((t - t0) / (t1 - t0)) * (a.right - a.left);
      const yOf = (v) => a.bottom - (v / ys.max) * (a.bottom - a.top);

      this.drawYAxis(ctx, a, ys, yOf);
      this.drawXAxis(ctx, a, t0, t1, xOf);
      this.drawBands(ctx, a, t0, t1, xOf);
      this.drawRunMarkers(ctx, a, xOf);
      ctx.save();
      ctx.beginPath();
      ctx.rect(a.left, a.top - 2, a.right - a.left, a.bottom - a.top + 4);
      ctx.clip();
      for (let s = 0; s < this.series.length; s++) {
        this.drawSeries(ctx, s, a, t0, t1, yOf);
      }
      ctx.restore();
      if (!n) {
        ctx.fillStyle = th.muted;
        ctx.textAlign = "center";
        ctx.fillText("No data yet", (a.left + a.right) / 2, (a.top + a.bottom) / 2);
      }
    }

    color(s) {
      const slot = this.series[s].slot != null ? this.series[s].slot : s;
      return this.series[s].color || this.theme.colors[slot % this.theme.colors.length];
    }

    drawLegend(ctx, a) {
      let x = a.left;
      ctx.textAlign = "left";
      for (let s = 0; s < this.series.length; s++) {
        ctx.fillStyle = this.color(s);
        ctx.fillRect(x, 12, 14, 4);
        ctx.fillStyle = this.theme.fg;
        const label = this.series[s].label;
        ctx.fillText(label, x + 19, 14);
        x += 19 + ctx.measureText(label).width + 18;
      }
    }

    drawYAxis(ctx, a, ys, yOf) {
      const th = this.theme;
      ctx.strokeStyle = th.grid;
      ctx.lineWidth = 1;
      ctx.fillStyle = th.muted;
      ctx.textAlign = "right";
      for (let v = 0; v <= ys.max + ys.step / 2; v += ys.step) {
        const y = Math.round(yOf(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(a.left, y);
        ctx.lineTo(a.right, y);
        ctx.stroke();
        ctx.fillText(fmtNumber(v, ys.step < 1 ? 2 : 0), a.left - 6, y);
      }
      // Unit above the axis labels, so every number on the chart has one.
      ctx.textAlign = "left";
      ctx.fillText(this.unit, 4, a.top - 12);
    }

    drawXAxis(ctx, a, t0, t1, xOf) {
      const th = this.theme;
      const span = t1 - t0;
      const maxTicks = Math.max(2, Math.floor((a.right - a.left) / 80));
      const step = TIME_STEPS.find((s) => span / s <= maxTicks) || 86400;
      ctx.fillStyle = th.muted;
      ctx.textAlign = "center";
      ctx.strokeStyle = th.grid;
      // Align ticks on local wall-clock multiples of the step.
      const tzOffset = this.opts.elapsed ? 0 : new Date(t0 * 1000).getTimezoneOffset() * 60;
      const label = this.opts.elapsed ? elapsed : clock;
      let t = Math.ceil((t0 - tzOffset) / step) * step + tzOffset;
      for (; t <= t1; t += step) {
        const x = Math.round(xOf(t)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, a.top);
        ctx.lineTo(x, a.bottom + 4);
        ctx.stroke();
        // Skip a label that would be cut at the canvas edge (the grid line stays).
        const half = ctx.measureText("00:00:00").width / 2;
        if (x - half >= 0 && x + half <= this.cssW) ctx.fillText(label(t), x, a.bottom + 13);
      }
      ctx.strokeStyle = th.muted;
      ctx.beginPath();
      ctx.moveTo(a.left, a.bottom + 0.5);
      ctx.lineTo(a.right, a.bottom + 0.5);
      ctx.stroke();
    }

    /** The drain of each stopping test, then the given bands, shaded and labelled. */
    drawBands(ctx, a, t0, t1, xOf) {
      const th = this.theme;
      const shade = (from, to, fill, label) => {
        const x0 = Math.max(a.left, xOf(Math.max(from, t0)));
        const x1 = Math.min(a.right, xOf(Math.min(to, t1)));
        if (x1 < a.left || x0 > a.right) return;
        const w = Math.max(2, x1 - x0);
        ctx.fillStyle = fill;
        ctx.fillRect(x0, a.top, w, a.bottom - a.top);
        ctx.fillStyle = th.muted;
        ctx.textAlign = "left";
        if (label && ctx.measureText(label).width + 6 <= w) ctx.fillText(label, x0 + 3, a.bottom - 8);
      };
      ctx.save();
      for (const b of this.bands) shade(b.from, b.to, th.overloadBand, b.label);
      for (let i = 0; i < this.len; i++) {
        if (!this.drains[i]) continue;
        let j = i;
        while (j + 1 < this.len && this.drains[j + 1]) j++;
        // The drain began after the last running point.
        const from = i > 0 && !this.drains[i - 1] ? this.times[i - 1] : this.times[i];
        shade(from, this.times[j], th.drainBand, "stopping");
        i = j;
      }
      ctx.restore();
    }

    drawRunMarkers(ctx, a, xOf) {
      const th = this.theme;
      ctx.save();
      ctx.strokeStyle = th.marker;
      ctx.fillStyle = th.marker;
      ctx.setLineDash([4, 3]);
      ctx.textAlign = "left";
      for (let i = 1; i < this.len; i++) {
        if (this.runs[i] === this.runs[i - 1] || this.runs[i] === 0) continue;
        const x = Math.round(xOf(this.times[i])) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, a.top);
        ctx.lineTo(x, a.bottom);
        ctx.stroke();
        ctx.fillText(`Run #${this.runs[i]}`, x + 3, a.top + 6);
      }
      ctx.restore();
    }

    /** Longest time between point i - 1 and point i that still joins them. */
    gapAt(i) {
      const span = Math.max(this.spans[i] || 0, i > 0 ? this.spans[i - 1] || 0 : 0);
      return GAP_SECONDS + span;
    }

    drawSeries(ctx, s, a, t0, t1, yOf) {
      const width = a.right - a.left;
      ctx.strokeStyle = ctx.fillStyle = this.color(s);
      if (this.len > width) this.drawColumns(ctx, s, a, t0, t1, yOf);
      else this.drawLines(ctx, s, a, t0, t1, yOf);
    }

    /**
     * More points than pixel columns: min/max decimation drawn as one filled rect per pixel
     * column, spanning the column's min..max joined to the previous column's last value.
     * Why rects: software canvases (no GPU) stroke long wide polylines very slowly (~190 ms
     * for 3 600 points at 1.5 px), while 1 300 fillRects take under 1 ms. Spikes stay visible.
     */
    drawColumns(ctx, s, a, t0, t1, yOf) {
      const col = this.values[s];
      const times = this.times;
      const scale = (a.right - a.left) / (t1 - t0);
      const lw = LINE_WIDTH;
      let cx = -1;
      let lo = 0;
      let hi = 0;
      let last = NaN; // last value of the previous column, to join columns
      let prevT = -Infinity;
      const flush = () => {
        if (cx < 0) return;
        const yTop = yOf(hi);
        const yBot = yOf(lo);
        ctx.fillRect(a.left + cx - lw / 2, yTop - lw / 2, lw, Math.max(lw, yBot - yTop + lw));
      };
      for (let i = 0; i < this.len; i++) {
        const v = col[i];
        const t = times[i];
        if (Number.isNaN(v) || t - prevT > this.gapAt(i)) {
          // A hole: finish the column and do not join across the hole.
          flush();
          cx = -1;
          last = NaN;
        }
        prevT = t;
        if (Number.isNaN(v)) continue;
        const x = Math.floor((t - t0) * scale);
        if (x !== cx) {
          flush();
          const joined = !Number.isNaN(last) && cx >= 0;
          cx = x;
          lo = hi = v;
          if (joined) {
            if (last < lo) lo = last;
            if (last > hi) hi = last;
          }
        } else {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        last = v;
      }
      flush();
    }

    /**
     * Fewer points than pixels: a polyline, stroked in short sub-paths because the cost of
     * stroking one path grows faster than linearly with its length on software canvases.
     */
    drawLines(ctx, s, a, t0, t1, yOf) {
      const col = this.values[s];
      const times = this.times;
      const scale = (a.right - a.left) / (t1 - t0);
      ctx.lineWidth = LINE_WIDTH;
      ctx.lineJoin = "round";
      ctx.beginPath();
      let open = false;
      let segs = 0;
      let prevT = -Infinity;
      for (let i = 0; i < this.len; i++) {
        const v = col[i];
        if (Number.isNaN(v)) {
          open = false;
          continue;
        }
        const x = a.left + (times[i] - t0) * scale;
        const y = yOf(v);
        if (open && times[i] - prevT <= this.gapAt(i)) {
          ctx.lineTo(x, y);
          if (++segs >= CHUNK) {
            ctx.stroke();
            ctx.beginPath();
            ctx.moveTo(x, y);
            segs = 0;
          }
        } else {
          // An isolated point (first after a hole) is drawn as a dot so it is visible.
          ctx.moveTo(x, y);
          if (i + 1 >= this.len || Number.isNaN(col[i + 1]) || times[i + 1] - times[i] > this.gapAt(i + 1)) {
            ctx.fillRect(x - LINE_WIDTH, y - LINE_WIDTH, LINE_WIDTH * 2, LINE_WIDTH * 2);
          }
        }
        open = true;
        prevT = times[i];
      }
      ctx.stroke();
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
          // Amber, not red: red means failures on this dashboard.
          { label: "95th percentile", get: (p) => p.current_p95_ms, slot: 3 },
        ],
      }),
      new LineChart(container, {
        title: "Number of Users",
        unit: "users",
        series: [{ label: "Users", get: (p) => p.user_count, keepInDrain: true }],
      }),
    ];
  }

  global.SurgeCharts = { LineChart, standardCharts, clock, elapsed, fmtNumber, autoDigits };
})(window);
