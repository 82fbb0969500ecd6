// Surge live dashboard: the Statistics table (with its percentile menu and the pinned
// Aggregated row), and the Failures and Exceptions tables. Tables are keyed and updated cell
// by cell (table.js) so a 1 000+ row statistics table costs a few string comparisons per
// second, not a DOM rebuild; hidden tabs are brought up to date when shown.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, $$, PCT_LABELS, fmtInt, fmtMs, fmtRate, fmtTime, pctTitle, state } = D;
  const { KeyedTable } = global.SurgeTable;

  // ---------------------------------------------------------------- statistics table
  const DEFAULT_PCTS = [0, 5, 7]; // Median, 95%ile, 99%ile
  function loadPcts() {
    try {
      const saved = JSON.parse(localStorage.getItem("surge-percentiles"));
      if (Array.isArray(saved) && saved.every((i) => Number.isInteger(i) && i >= 0 && i < 11)) {
        return saved;
      }
    } catch (_) { /* fall through to the default */ }
    return DEFAULT_PCTS.slice();
  }
  let shownPcts = loadPcts();

  // Columns the user hid (any but Name), kept across reloads.
  const HIDDEN_KEY = "surge-hidden-columns";
  const OPTIONAL = [
    ["type", "Type"], ["req", "# Requests"], ["fail", "# Fails"], ["avg", "Average"], ["min", "Min"],
    ["max", "Max"], ["size", "Average size"], ["rps", "Current RPS"], ["fps", "Current Failures/s"],
  ];
  function loadHidden() {
    try {
      const v = JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]");
      return new Set(Array.isArray(v) ? v.filter((k) => OPTIONAL.some(([o]) => o === k)) : []);
    } catch (_) {
      return new Set();
    }
  }
  let hiddenCols = loadHidden();

  function statsColumns() {
    const cols = [
      { key: "type", title: "Type", value: (e) => e.method, text: (e) => e.method },
      { key: "name", title: "Name", header: true, cls: "name", value: (e) => e.name, text: (e) => e.name },
      { key: "req", title: "# Requests", num: true, value: (e) => e.num_requests, text: (e) => fmtInt(e.num_requests) },
      { key: "fail", title: "# Fails", num: true, value: (e) => e.num_failures, text: (e) => fmtInt(e.num_failures) },
    ];
    for (const i of shownPcts.slice().sort((a, b) => a - b)) {
      cols.push({
        key: `p${i}`, title: pctTitle(PCT_LABELS[i]), num: true,
        value: (e) => e.percentiles[i], text: (e) => fmtMs(e.percentiles[i]),
      });
    }
    cols.push(
      { key: "avg", title: "Average (ms)", num: true, value: (e) => e.avg_ms, text: (e) => fmtMs(e.avg_ms) },
      { key: "min", title: "Min (ms)", num: true, value: (e) => e.min_ms, text: (e) => fmtMs(e.min_ms) },
      { key: "max", title: "Max (ms)", num: true, value: (e) => e.max_ms, text: (e) => fmtMs(e.max_ms) },
      { key: "size", title: "Average size (bytes)", num: true, value: (e) => e.avg_size, text: (e) => fmtInt(e.avg_size) },
      { key: "rps", title: "Current RPS", num: true, value: (e) => e.current_rps, text: (e) => fmtRate(e.current_rps) },
      { key: "fps", title: "Current Failures/s", num: true, value: (e) => e.current_fail_per_sec, text: (e) => fmtRate(e.current_fail_per_sec) },
    );
    return cols.filter((c) => !hiddenCols.has(c.key));
  }

  let savedSort = null;
  try {
    savedSort = JSON.parse(localStorage.getItem("surge-sort"));
  } catch (_) { /* no saved sort */ }

  const statsTable = new KeyedTable($("#stats-table"), statsColumns(), (e) => `${e.method} ${e.name}`, {
    sort: savedSort,
    onSort: (s) => {
      try { localStorage.setItem("surge-sort", JSON.stringify(s)); } catch (_) { /* ignore */ }
    },
  });
  // The Aggregated row lives in <tfoot>, so sorting never moves it: pinned last. It shares
  // the statistics table's columns and cell-diffing.
  let totalRow = null;
  function buildTotalRow() {
    const tfoot = $("#stats-table").tFoot;
    tfoot.textContent = "";
    if (totalRow && statsTable.observer) statsTable.observer.unobserve(totalRow.tr);
    totalRow = statsTable.makeRow(null);
    totalRow.tr.className = "total";
    tfoot.append(totalRow.tr);
  }
  buildTotalRow();

  function buildPctMenu() {
    const box = $("#pct-options");
    PCT_LABELS.forEach((label, i) => {
      const lab = document.createElement("label");
      lab.className = "inline";
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.value = String(i);
      cb.checked = shownPcts.includes(i);
      cb.addEventListener("change", () => {
        shownPcts = $$("input:checked", box).map((x) => Number(x.value));
        try { localStorage.setItem("surge-percentiles", JSON.stringify(shownPcts)); } catch (_) { /* ignore */ }
        rebuildColumns();
      });
      lab.append(cb, ` ${pctTitle(label)}`);
      box.append(lab);
    });
  }
  buildPctMenu();

  function rebuildColumns() {
    statsTable.setColumns(statsColumns());
    buildTotalRow();
    renderStats(true);
  }

  function buildColumnMenu() {
    const box = $("#col-options");
    for (const [key, title] of OPTIONAL) {
      const lab = document.createElement("label");
      lab.className = "inline";
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.value = key;
      cb.checked = !hiddenCols.has(key);
      cb.addEventListener("change", () => {
        hiddenCols = new Set($$("input", box).filter((x) => !x.checked).map((x) => x.value));
        try { localStorage.setItem(HIDDEN_KEY, JSON.stringify([...hiddenCols])); } catch (_) { /* ignore */ }
        rebuildColumns();
      });
      lab.append(cb, ` ${title}`);
      box.append(lab);
    }
  }
  buildColumnMenu();
  $("#stats-filter").addEventListener("input", () => renderStats(true));
  // A click on a row's name adds that endpoint to the Charts tab's endpoint charts.
  $("#stats-table").tBodies[0].addEventListener("click", (e) => {
    const cell = e.target.closest(".name");
    const row = cell && statsTable.byTr.get(cell.parentElement);
    if (!row || !row.data || !D.pickEndpoint) return;
    D.pickEndpoint(`${row.data.method} ${row.data.name}`);
    D.selectTab("charts");
    $("#endpoint-section").scrollIntoView();
  });

  // ---------------------------------------------------------------- failures / exceptions
  const failuresTable = new KeyedTable($("#failures-table"), [
    { key: "n", title: "# Failures", num: true, value: (f) => f.occurrences, text: (f) => fmtInt(f.occurrences) },
    { key: "method", title: "Method", value: (f) => f.method, text: (f) => f.method },
    { key: "name", title: "Name", cls: "name", value: (f) => f.name, text: (f) => f.name },
    { key: "msg", title: "Message", cls: "message", value: (f) => f.message, text: (f) => f.message },
    { key: "first", title: "First Seen", value: (f) => f.first_seen, text: (f) => fmtTime(f.first_seen) },
    { key: "last", title: "Last Seen", value: (f) => f.last_seen, text: (f) => fmtTime(f.last_seen) },
  ], (f) => `${f.method}\u0000${f.name}\u0000${f.message}`, { sort: { key: "n", dir: -1 } });

  const exceptionsTable = new KeyedTable($("#exceptions-table"), [
    { key: "n", title: "# occurrences", num: true, value: (x) => x.count, text: (x) => fmtInt(x.count) },
    { key: "msg", title: "Message", cls: "message", value: (x) => x.message, text: (x) => x.message },
    { key: "tb", title: "Traceback", cls: "message", value: (x) => x.origin, text: (x) => x.origin },
  ], (x) => `${x.message}\u0000${x.origin}`, { sort: { key: "n", dir: -1 } });

  // ---------------------------------------------------------------- rendering
  function renderStats(force) {
    const snap = state.snap;
    if (!snap || (!force && state.activeTab !== "stats")) return;
    // The filter narrows the rows by name (or method); Aggregated stays the whole test's.
    const q = $("#stats-filter").value.trim().toLowerCase();
    const rows = q
      ? snap.entries.filter((e) => e.name.toLowerCase().includes(q) || e.method.toLowerCase() === q)
      : snap.entries;
    statsTable.update(rows);
    statsTable.fill(totalRow, { ...snap.total, name: "Aggregated", method: "" });
    const n = snap.entries.length;
    const names = (k) => `${fmtInt(k)} ${k === 1 ? "name" : "names"}`;
    $("#stats-note").textContent = !n ? "No requests yet."
      : q ? `${fmtInt(rows.length)} of ${names(n)}` : names(n);
  }

  function renderFailures(force) {
    const snap = state.snap;
    if (!snap) return;
    const nf = snap.failures.length;
    const ne = snap.exceptions.length;
    $("#count-failures").textContent = nf ? fmtInt(nf) : "";
    $("#count-exceptions").textContent = ne ? fmtInt(ne) : "";
    if (force || state.activeTab === "failures") {
      failuresTable.update(snap.failures);
      $("#failures-empty").hidden = nf > 0;
      $("#failures-table").hidden = nf === 0;
    }
    if (force || state.activeTab === "exceptions") {
      exceptionsTable.update(snap.exceptions);
      $("#exceptions-empty").hidden = ne > 0;
      $("#exceptions-table").hidden = ne === 0;
    }
  }

  Object.assign(D, { renderStats, renderFailures });
})(window);
