// Keyed tables for the live dashboard: rows are reused and only changed cells are written,
// so a 1 000+ row statistics table costs a few string comparisons per update, not a DOM
// rebuild. A classic script exposing `window.SurgeTable` (loaded before the dashboard's own
// scripts).
"use strict";

(function (global) {
  // ---------------------------------------------------------------- keyed table
  /**
   * A table whose rows are keyed: update() reuses row elements, writes only cells whose text
   * changed, and moves rows only when the sort order changed.
   * columns: [{title, value(row) -> sortable value, text(row) -> string, cls?, num?}]
   */
  class KeyedTable {
    constructor(table, columns, keyOf, opts = {}) {
      this.table = table;
      this.tbody = table.tBodies[0];
      this.keyOf = keyOf;
      this.rows = new Map(); // key -> {tr, cells, texts, data}
      this.order = [];
      this.sort = opts.sort || null; // {col, dir}
      this.onSort = opts.onSort || null;
      this.sortable = opts.sortable !== false;
      // Rows scrolled out of view keep their data but skip formatting and DOM writes until
      // they come back into view: with 1 000+ names only the ~30 visible rows cost anything.
      this.observer = global.IntersectionObserver
        ? new IntersectionObserver((list) => this.onVisibility(list), { rootMargin: "200px 0px" })
        : null;
      this.byTr = new WeakMap();
      this.setColumns(columns);
    }

    setColumns(columns) {
      this.columns = columns;
      const head = this.table.tHead.rows[0];
      head.textContent = "";
      columns.forEach((c, i) => {
        const th = document.createElement("th");
        th.scope = "col";
        if (c.num) th.className = "num";
        if (c.cls) th.classList.add(c.cls);
        if (this.sortable) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "sort";
          b.textContent = c.title;
          b.addEventListener("click", () => this.toggleSort(i));
          th.append(b);
        } else {
          th.textContent = c.title;
        }
        head.append(th);
      });
      // Column set changed: rebuild rows once (rare: percentile menu only).
      const data = Array.from(this.rows.values(), (r) => r.data);
      for (const r of this.rows.values()) {
        r.tr.remove();
        if (this.observer) this.observer.unobserve(r.tr);
      }
      this.rows.clear();
      this.order = [];
      this.update(data);
      this.markSort();
    }

    toggleSort(i) {
      const key = this.columns[i].key;
      if (this.sort && this.sort.key === key) {
        this.sort = { key, dir: -this.sort.dir };
      } else {
        // Numbers sort biggest first (what you look for); text A→Z.
        this.sort = { key, dir: this.columns[i].num ? -1 : 1 };
      }
      if (this.onSort) this.onSort(this.sort);
      this.markSort();
      this.update(Array.from(this.rows.values(), (r) => r.data));
    }

    markSort() {
      const ths = this.table.tHead.rows[0].cells;
      this.columns.forEach((c, i) => {
        const on = this.sort && this.sort.key === c.key;
        ths[i].setAttribute("aria-sort", on ? (this.sort.dir > 0 ? "ascending" : "descending") : "none");
      });
    }

    makeRow(data) {
      const tr = document.createElement("tr");
      const cells = this.columns.map((c) => {
        const td = document.createElement(c.header ? "th" : "td");
        if (c.header) td.scope = "row";
        if (c.num) td.className = "num";
        if (c.cls) td.classList.add(c.cls);
        tr.append(td);
        return td;
      });
      const row = { tr, cells, texts: new Array(this.columns.length).fill(null), data, visible: true };
      if (this.observer) {
        this.byTr.set(tr, row);
        this.observer.observe(tr);
      }
      return row;
    }

    onVisibility(list) {
      for (const e of list) {
        const row = this.byTr.get(e.target);
        if (!row) continue;
        row.visible = e.isIntersecting;
        if (row.visible && row.stale) this.fill(row, row.data);
      }
    }

    fill(row, data) {
      row.data = data;
      if (!row.visible && row.texts[0] !== null) {
        row.stale = true;
        return;
      }
      row.stale = false;
      for (let i = 0; i < this.columns.length; i++) {
        const text = this.columns[i].text(data);
        if (row.texts[i] !== text) {
          row.texts[i] = text;
          row.cells[i].textContent = text;
        }
      }
    }

    /** Show exactly `list` (in sort order, or the given order when unsorted). */
    update(list) {
      const seen = new Set();
      const keys = [];
      for (const data of list) {
        const key = this.keyOf(data);
        seen.add(key);
        keys.push(key);
        let row = this.rows.get(key);
        if (!row) {
          row = this.makeRow(data);
          this.rows.set(key, row);
        }
        this.fill(row, data);
      }
      for (const [key, row] of this.rows) {
        if (!seen.has(key)) {
          row.tr.remove();
          if (this.observer) this.observer.unobserve(row.tr);
          this.rows.delete(key);
        }
      }
      if (this.sort) {
        const col = this.columns.find((c) => c.key === this.sort.key);
        if (col) {
          const dir = this.sort.dir;
          const vals = new Map(keys.map((k) => [k, col.value(this.rows.get(k).data)]));
          keys.sort((x, y) => dir * compare(vals.get(x), vals.get(y)));
        }
      }
      this.reorder(keys);
    }

    reorder(keys) {
      let same = keys.length === this.order.length;
      for (let i = 0; same && i < keys.length; i++) same = keys[i] === this.order[i];
      if (same) return;
      // Append in order: appendChild moves existing nodes, one fragment = one reflow.
      const frag = document.createDocumentFragment();
      for (const k of keys) frag.append(this.rows.get(k).tr);
      this.tbody.append(frag);
      this.order = keys;
    }
  }

  /** Nulls last, numbers numerically, strings by locale. */
  function compare(a, b) {
    if (a == null || Number.isNaN(a)) return b == null ? 0 : 1;
    if (b == null || Number.isNaN(b)) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b));
  }

  global.SurgeTable = { KeyedTable, compare };
})(window);
