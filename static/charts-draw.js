// Surge charts, drawing: paints a LineChart's base image (legend, axes, shaded bands, run
// markers and the lines) on its offscreen canvas. Loaded right after charts.js, whose
// LineChart gets these methods; the HTML report inlines both files as one script.
//
// - With more points than pixel columns, each column draws one vertical min..max segment
//   (min/max decimation): cost stays linear in points, spikes stay visible.
// - Shaded bands mark time that needs a caution: the drain of a stopping test (points with
//   `drain`, whose latency lines are not drawn: only the slowest in-flight requests finish
//   then, and the current percentiles leave those seconds out) and
//   the ranges given to setBands (the generator's overload ranges).
"use strict";

(function (global) {
  const { LineChart, clock, elapsed, fmtNumber, bisect, range } = global.SurgeCharts;

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
    21600, 43200, 86400];
  // A gap longer than this many seconds between two points breaks the line (server restart,
  // browser asleep) instead of drawing a misleading straight segment across it; thinned
  // older points (with a `span`) allow their span on top.
  const GAP_SECONDS = 5;
  const LINE_WIDTH = 1.5;
  // Segments per stroked sub-path (see drawLines).
  const CHUNK = 16;

  /** "Nice" step (1, 2, 5 × 10^k) so that `max` spans about `count` ticks. */
  function niceStep(max, count) {
    const raw = max / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    return nice * mag;
  }

  Object.assign(LineChart.prototype, {
    /** Visible y range: 0..nice max over every series' visible points. */
    yScale(i0, i1) {
      let max = 0;
      for (let s = 0; s < this.values.length; s++) {
        if (this.hidden[s]) continue;
        const col = this.values[s];
        for (let i = i0; i <= i1; i++) {
          const v = col[i];
          if (v > max) max = v;
        }
      }
      if (max <= 0) max = 1;
      const step = niceStep(max, 4);
      return { max: Math.ceil(max / step) * step, step };
    },

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
      // The data's extent, joined with that of the charts it sits beside (opts.range(): the
      // server charts take the load charts'), then the page's range choice or zoom.
      let ext = this.extent();
      const beside = this.opts.range ? this.opts.range() : null;
      const other = Array.isArray(beside) ? { t0: beside[0], t1: beside[1], runStart: null } : beside;
      if (other && ext) {
        ext = { t0: Math.min(ext.t0, other.t0), t1: Math.max(ext.t1, other.t1), runStart: other.runStart != null ? other.runStart : ext.runStart };
      } else if (other) {
        ext = other;
      }
      if (!ext) ext = { t0: Date.now() / 1000 - 60, t1: Date.now() / 1000, runStart: null };
      let [t0, t1] = this.shared ? range.visible(ext) : [ext.t0, ext.t1];
      // A lone point still gets a readable axis (a zoom is shown as asked).
      if (t1 - t0 < 10 && !(this.shared && range.zoom)) t1 = t0 + 10;
      // The points drawn: those in view, and one on each side to join the lines to the edges.
      const i0 = n ? Math.max(0, bisect(this.times, t0, n)) : 0;
      const i1 = n ? Math.min(n - 1, bisect(this.times, t1, n) + 1) : -1;
      this.drawn = [i0, i1];
      const ys = this.yScale(i0, i1);
      this.view = { t0, t1, a, ys };
      const xOf = (t) => a.left + ((t - t0) / (t1 - t0)) * (a.right - a.left);
      const yOf = (v) => a.bottom - (v / ys.max) * (a.bottom - a.top);

      this.drawYAxis(ctx, a, ys, yOf);
      this.drawXAxis(ctx, a, t0, t1, xOf);
      this.drawBands(ctx, a, t0, t1, xOf);
      this.drawRunMarkers(ctx, a, xOf, t0, t1);
      ctx.save();
      ctx.beginPath();
      ctx.rect(a.left, a.top - 2, a.right - a.left, a.bottom - a.top + 4);
      ctx.clip();
      for (let s = 0; s < this.series.length; s++) {
        if (!this.hidden[s]) this.drawSeries(ctx, s, a, t0, t1, yOf);
      }
      ctx.restore();
      if (!n) {
        ctx.fillStyle = th.muted;
        ctx.textAlign = "center";
        ctx.fillText("No data yet", (a.left + a.right) / 2, (a.top + a.bottom) / 2);
      }
    },

    color(s) {
      const slot = this.series[s].slot != null ? this.series[s].slot : s;
      return this.series[s].color || this.theme.colors[slot % this.theme.colors.length];
    },

    /** The legend; a hidden line's entry is greyed and struck through (click: toggle). */
    drawLegend(ctx, a) {
      // After the unit written above the y axis (a long one, "connections", would run into it).
      let x = Math.max(a.left, 4 + ctx.measureText(this.unit).width + 14);
      ctx.textAlign = "left";
      this.legendHits = [];
      for (let s = 0; s < this.series.length; s++) {
        const off = this.hidden[s];
        const label = this.series[s].label;
        const w = ctx.measureText(label).width;
        ctx.globalAlpha = off ? 0.35 : 1;
        ctx.fillStyle = this.color(s);
        ctx.fillRect(x, 12, 14, 4);
        ctx.fillStyle = this.theme.fg;
        ctx.fillText(label, x + 19, 14);
        if (off) ctx.fillRect(x + 19, 14, w, 1);
        ctx.globalAlpha = 1;
        this.legendHits.push({ x0: x, x1: x + 19 + w, s });
        x += 19 + w + 18;
      }
    },

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
    },

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
    },

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
    },

    /**
     * The start of each run ("Run #N") and the load's marks (setMarks) in view, as dashed
     * lines. Labels take the first of three rows where they do not touch the one before;
     * a label with no room is left out (its line stays; the tooltip has the time).
     */
    drawRunMarkers(ctx, a, xOf, t0, t1) {
      const th = this.theme;
      const marks = [];
      for (let i = 1; i < this.len; i++) {
        if (this.runs[i] === this.runs[i - 1] || this.runs[i] === 0) continue;
        if (this.times[i] < t0 || this.times[i] > t1) continue;
        marks.push({ time: this.times[i], label: `Run #${this.runs[i]}` });
      }
      for (const m of this.marks || []) if (m.time >= t0 && m.time <= t1) marks.push(m);
      marks.sort((p, q) => p.time - q.time);
      ctx.save();
      ctx.strokeStyle = th.marker;
      ctx.fillStyle = th.marker;
      ctx.setLineDash([4, 3]);
      ctx.textAlign = "left";
      const rowsEnd = [-Infinity, -Infinity, -Infinity];
      for (const m of marks) {
        const x = Math.round(xOf(m.time)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, a.top);
        ctx.lineTo(x, a.bottom);
        ctx.stroke();
        const w = ctx.measureText(m.label).width;
        const row = rowsEnd.findIndex((end) => x + 3 > end + 6);
        if (row < 0 || x + 3 + w > a.right) continue;
        rowsEnd[row] = x + 3 + w;
        ctx.fillText(m.label, x + 3, a.top + 6 + row * 13);
      }
      ctx.restore();
    },

    /** Longest time between point i - 1 and point i that still joins them. */
    gapAt(i) {
      const span = Math.max(this.spans[i] || 0, i > 0 ? this.spans[i - 1] || 0 : 0);
      return (this.opts.gap || GAP_SECONDS) + span;
    },

    drawSeries(ctx, s, a, t0, t1, yOf) {
      const width = a.right - a.left;
      ctx.strokeStyle = ctx.fillStyle = this.color(s);
      if (this.drawn[1] - this.drawn[0] + 1 > width) this.drawColumns(ctx, s, a, t0, t1, yOf);
      else this.drawLines(ctx, s, a, t0, t1, yOf);
    },

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
      for (let i = this.drawn[0]; i <= this.drawn[1]; i++) {
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
    },

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
      for (let i = this.drawn[0]; i <= this.drawn[1]; i++) {
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
          if (i + 1 > this.drawn[1] || Number.isNaN(col[i + 1]) || times[i + 1] - times[i] > this.gapAt(i + 1)) {
            ctx.fillRect(x - LINE_WIDTH, y - LINE_WIDTH, LINE_WIDTH * 2, LINE_WIDTH * 2);
          }
        }
        open = true;
        prevT = times[i];
      }
      ctx.stroke();
    }
  });
})(window);
