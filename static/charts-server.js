// Surge server charts: the target's scraped metrics (its /metrics) as line charts on the
// load charts' time axis. Used by the live dashboard (server.js) and the HTML report
// (report.js); a classic script extending `window.SurgeCharts`, loaded after charts.js.
"use strict";

(function (global) {
  const { LineChart } = global.SurgeCharts;

  /** The points of a chart's lines merged by time: [{time, v: [value per line]}]. */
  function merge(lines) {
    const byTime = new Map();
    lines.forEach((line, i) => {
      for (const p of line.points) {
        let row = byTime.get(p.time);
        if (!row) {
          row = { time: p.time, v: new Array(lines.length).fill(null) };
          byTime.set(p.time, row);
        }
        row.v[i] = p.value;
      }
    });
    return [...byTime.values()].sort((a, b) => a.time - b.time);
  }

  /** A set of charts kept by key: update() adds, redraws and removes them. */
  class ServerCharts {
    /**
     * @param {HTMLElement} container
     * @param {() => [number, number] | null} range the load charts' time range
     */
    constructor(container, range) {
      this.container = container;
      this.range = range;
      this.charts = new Map();
    }

    /** Show exactly `list`: [{key, title, unit, every, lines: [{label, points}]}]. */
    update(list) {
      const seen = new Set();
      for (const c of list) {
        seen.add(c.key);
        const labels = c.lines.map((l) => l.label).join("\u0000");
        let entry = this.charts.get(c.key);
        if (entry && entry.labels !== labels) {
          entry.chart.root.remove();
          entry = null;
        }
        if (!entry) {
          const chart = new LineChart(this.container, {
            title: c.title,
            unit: c.unit,
            range: this.range,
            // A missed scrape leaves a gap; consecutive scrapes are joined.
            gap: Math.max(5, 2.5 * (c.every || 5)),
            series: c.lines.map((l, i) => ({ label: l.label, get: (p) => p.v[i], keepInDrain: true })),
          });
          chart.root.dataset.server = c.key;
          entry = { chart, labels };
          this.charts.set(c.key, entry);
        }
        entry.chart.setPoints(merge(c.lines));
      }
      for (const [key, e] of this.charts) {
        if (!seen.has(key)) {
          e.chart.root.remove();
          this.charts.delete(key);
        }
      }
      // The page shows the charts in the list's order (a view first seen later keeps its
      // place): move nodes only when the order differs.
      const roots = list.map((c) => this.charts.get(c.key).chart.root);
      const shown = [...this.container.children].filter((el) => roots.includes(el));
      if (roots.some((r, i) => shown[i] !== r)) for (const r of roots) this.container.append(r);
    }

    /** Redraw (the load charts' range moved). */
    invalidate() {
      for (const e of this.charts.values()) e.chart.invalidate();
    }

    each(f) {
      for (const e of this.charts.values()) f(e.chart);
    }
  }

  /** The built-in views of every source as chart descriptions. */
  function viewCharts(sources) {
    const many = sources.length > 1;
    const out = [];
    for (const s of sources) {
      for (const v of s.views || []) {
        out.push({
          key: `${s.source}\u0000${v.id}`,
          title: many ? `${v.title} · ${s.source}` : v.title,
          unit: v.unit,
          every: s.every_s,
          lines: v.lines,
        });
      }
    }
    return out;
  }

  /** `name{a="1",b="2"}` of a series (its label set, for a line's legend). */
  function seriesLabel(s) {
    const parts = Object.entries(s.labels || {}).map(([k, v]) => `${k}="${v}"`);
    return parts.length ? parts.join(",") : s.name;
  }

  /** One chart per picked series name and source, a line per label set (at most 8). */
  function seriesCharts(sources) {
    const many = sources.length > 1;
    const out = [];
    for (const s of sources) {
      const byName = new Map();
      for (const x of s.series || []) {
        if (!byName.has(x.name)) byName.set(x.name, []);
        byName.get(x.name).push(x);
      }
      for (const [name, list] of byName) {
        const kind = list[0].kind;
        const unit = kind === "counter" ? "/s" : kind === "histogram" ? "p95" : "";
        out.push({
          key: `${s.source}\u0000series\u0000${name}`,
          title: many ? `${name} · ${s.source}` : name,
          unit,
          every: s.every_s,
          lines: list.slice(0, 8).map((x) => ({ label: seriesLabel(x), points: x.points })),
        });
      }
    }
    return out;
  }

  Object.assign(global.SurgeCharts, { ServerCharts, viewCharts, seriesCharts });
})(window);
