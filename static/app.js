// Surge live dashboard. Plain ES2020, no dependencies; charts come from charts.js.
//
// Data flow: one EventSource on /events. `state` rebuilds (or, when resumed after a
// reconnect, extends) everything; `snapshot` updates the figures/tables and appends one chart
// point; `log` appends a log line. Tables are keyed and updated cell by cell so a 1 000+ row
// statistics table costs a few string comparisons per second, not a DOM rebuild.
"use strict";

(function (global) {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // ---------------------------------------------------------------- theme (first: less flash)
  const THEMES = ["auto", "light", "dark"];
  function applyTheme(theme) {
    if (theme === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
    const btn = $("#btn-theme");
    if (btn) {
      const label = `Theme: ${theme === "auto" ? "automatic" : theme}`;
      btn.setAttribute("aria-label", label);
      btn.title = label;
      btn.textContent = theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐";
    }
  }
  function storedTheme() {
    try {
      return localStorage.getItem("surge-theme") || "auto";
    } catch (_) {
      return "auto"; // storage may be disabled; the toggle still works for this page
    }
  }
  applyTheme(storedTheme());

  // ---------------------------------------------------------------- config and formatting
  let config = {};
  try {
    config = JSON.parse($("#surge-config").textContent || "{}");
  } catch (err) {
    console.error("bad surge-config JSON", err);
  }
  const PCT_LABELS = config.percentiles && config.percentiles.length === 11
    ? config.percentiles
    : ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"];
  const { fmtNumber, autoDigits } = window.SurgeCharts;

  const fmtInt = (v) => (v == null ? "–" : fmtNumber(Math.round(v), 0));
  /** Milliseconds: more decimals for fast responses, so 0.42 ms does not print as 0. */
  const fmtMs = (v) => (v == null ? "–" : fmtNumber(v, autoDigits(v)));
  const fmtRate = (v) => (v == null ? "–" : fmtNumber(v, v >= 100 ? 0 : v >= 10 ? 1 : 2));
  const fmtPct = (v) => `${fmtNumber(v, v > 0 && v < 1 ? 2 : v < 10 ? 1 : 0)} %`;
  const fmtTime = (t) => (t == null ? "–" : new Date(t * 1000).toLocaleString());
  const pctTitle = (label) => {
    if (label === "50%") return "Median (ms)";
    return `${label.replace("%", "")}%ile (ms)`;
  };

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
    return cols;
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
        statsTable.setColumns(statsColumns());
        buildTotalRow();
        renderStats(true);
      });
      lab.append(cb, ` ${pctTitle(label)}`);
      box.append(lab);
    });
  }
  buildPctMenu();

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

  // ---------------------------------------------------------------- charts
  const charts = window.SurgeCharts.standardCharts($("#charts"));
  let lastSeq = -1;

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
  let snap = null;
  let activeTab = "stats";

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

  function renderStats(force) {
    if (!snap || (!force && activeTab !== "stats")) return;
    statsTable.update(snap.entries);
    statsTable.fill(totalRow, { ...snap.total, name: "Aggregated", method: "" });
    const n = snap.entries.length;
    $("#stats-note").textContent = n ? `${fmtInt(n)} ${n === 1 ? "name" : "names"}` : "No requests yet.";
  }

  function renderFailures(force) {
    if (!snap) return;
    const nf = snap.failures.length;
    const ne = snap.exceptions.length;
    $("#count-failures").textContent = nf ? fmtInt(nf) : "";
    $("#count-exceptions").textContent = ne ? fmtInt(ne) : "";
    if (force || activeTab === "failures") {
      failuresTable.update(snap.failures);
      $("#failures-empty").hidden = nf > 0;
      $("#failures-table").hidden = nf === 0;
    }
    if (force || activeTab === "exceptions") {
      exceptionsTable.update(snap.exceptions);
      $("#exceptions-empty").hidden = ne > 0;
      $("#exceptions-table").hidden = ne === 0;
    }
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
    for (const c of charts) c.setBands(bands);
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
    const runChanged = snap && snap.run !== s.run;
    snap = s;
    renderHeader(s);
    renderStats(false);
    renderFailures(false);
    renderBanner(s);
    renderBands(s);
    if (runChanged && activeTab === "ratio") loadRatio();
  }

  // ---------------------------------------------------------------- panels by state
  let wantStartForm = false; // "New" pressed while stopped

  function updatePanels() {
    const state = snap ? snap.state : "ready";
    // Before any test, the History and Compare tabs can still be browsed (saved runs).
    const browsing = state === "ready" && (activeTab === "history" || activeTab === "compare");
    const showForm = (state === "ready" && !browsing) || (state === "stopped" && wantStartForm);
    $("#start-panel").hidden = !showForm;
    $("#dashboard").hidden = state === "ready" && !browsing;
    $("#start-cancel").hidden = state === "ready";
    for (const b of $$("[data-show]")) b.hidden = !b.dataset.show.split(" ").includes(state);
    if (state !== "stopped") wantStartForm = false;
  }

  // ---------------------------------------------------------------- forms
  function clearErrors(form) {
    for (const p of $$(".error", form)) p.textContent = "";
    for (const i of $$("[aria-invalid]", form)) i.removeAttribute("aria-invalid");
  }

  function showError(form, field, message) {
    const slot = $(`[data-error-for="${CSS.escape(field || "")}"]`, form) || $(".form-error", form);
    slot.textContent = message;
    const input = field && form.elements[field];
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", slot.id || (slot.id = `err-${form.id}-${field}`));
      input.focus();
    }
  }

  /** HTML5 validity, reported with our own messages next to each field. */
  function validate(form) {
    let ok = true;
    for (const el of form.elements) {
      if (!el.name || el.disabled || !el.willValidate) continue;
      if (el.closest("[hidden]")) continue;
      if (!el.checkValidity()) {
        if (ok) showError(form, el.name, el.dataset.msg || el.validationMessage);
        else {
          $(`[data-error-for="${el.name}"]`, form).textContent = el.dataset.msg || el.validationMessage;
          el.setAttribute("aria-invalid", "true");
        }
        ok = false;
      }
    }
    return ok;
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body ? new URLSearchParams(body).toString() : "",
    });
    let data = {};
    try {
      data = await res.json();
    } catch (_) { /* non-JSON error body: report the status */ }
    if (!res.ok) {
      const err = new Error(data.error || `${res.status} ${res.statusText}`);
      err.field = data.field || "";
      throw err;
    }
    return data;
  }

  /** Submit `fields` of `form` to `url`; server 4xx errors land next to the named field. */
  async function submitForm(form, url, fields) {
    clearErrors(form);
    if (!validate(form)) return false;
    const body = {};
    for (const name of fields) {
      const el = form.elements[name];
      if (!el || el.closest("[hidden]")) continue;
      const v = el.value.trim();
      if (v !== "" || name === "scenario") body[name] = v;
    }
    const submit = $("button[type=submit]", form);
    submit.disabled = true;
    try {
      await post(url, body);
      return true;
    } catch (err) {
      showError(form, err.field, err.message);
      return false;
    } finally {
      submit.disabled = false;
    }
  }

  function fillStartForm() {
    const f = $("#start-form").elements;
    f.user_count.value = config.users != null ? config.users : 1;
    f.spawn_rate.value = config.spawn_rate != null ? config.spawn_rate : 1;
    f.host.value = config.host || "";
    f.run_time.value = config.run_time || "";
    f.rate.value = config.rate != null ? config.rate : "";
    const sel = f.scenario;
    for (const name of config.scenarios || []) {
      const o = document.createElement("option");
      o.value = name;
      o.textContent = name;
      sel.append(o);
    }
    $("#version").textContent = config.version ? `v${config.version}` : "";
  }

  $("#start-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const ok = await submitForm(form, "/swarm",
      ["user_count", "spawn_rate", "host", "run_time", "rate", "scenario"]);
    if (ok) {
      // Remember what was asked so "Edit" and "New" start from it.
      const f = form.elements;
      config.users = Number(f.user_count.value);
      config.spawn_rate = Number(f.spawn_rate.value);
      config.host = f.host.value;
      wantStartForm = false;
      // Show the dashboard at once; the next snapshot confirms the state.
      if (snap) snap.state = snap.state === "ready" || snap.state === "stopped" ? "spawning" : snap.state;
      document.body.dataset.state = "spawning";
      $("#start-panel").hidden = true;
      $("#dashboard").hidden = false;
    }
  });

  $("#start-cancel").addEventListener("click", () => {
    wantStartForm = false;
    updatePanels();
  });

  $("#btn-new").addEventListener("click", () => {
    wantStartForm = true;
    clearErrors($("#start-form"));
    updatePanels();
    $("#f-users").focus();
  });

  const dialog = $("#edit-dialog");
  $("#btn-edit").addEventListener("click", () => {
    const form = $("#edit-form");
    clearErrors(form);
    const open = !!(snap && snap.open_model);
    for (const el of $$(".closed-only", form)) el.hidden = open;
    for (const el of $$(".open-only", form)) el.hidden = !open;
    form.elements.user_count.value = snap ? snap.user_count || config.users || 1 : config.users || 1;
    form.elements.spawn_rate.value = config.spawn_rate != null ? config.spawn_rate : 1;
    form.elements.rate.value = open ? snap.open_model.target_rate : "";
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  });
  $("#edit-cancel").addEventListener("click", () => dialog.close());
  $("#edit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    if (await submitForm(form, "/swarm", ["user_count", "spawn_rate", "rate"])) {
      config.spawn_rate = Number(form.elements.spawn_rate.value) || config.spawn_rate;
      dialog.close();
    }
  });

  /** Buttons without a form: failures go to the connection line in the header. */
  async function action(url, btn) {
    btn.disabled = true;
    try {
      await post(url);
    } catch (err) {
      flash(`${btn.textContent} failed: ${err.message}`);
    } finally {
      btn.disabled = false;
    }
  }
  $("#btn-stop").addEventListener("click", (e) => action("/stop", e.currentTarget));
  $("#btn-reset").addEventListener("click", (e) => action("/stats/reset", e.currentTarget));

  $("#btn-theme").addEventListener("click", () => {
    const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
    try { localStorage.setItem("surge-theme", next); } catch (_) { /* ignore */ }
    applyTheme(next);
    for (const c of charts) c.refreshTheme();
  });
  // Automatic theme follows the OS live; charts need to re-read their colours.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const c of charts) c.refreshTheme();
  });

  // ---------------------------------------------------------------- tabs
  const tabs = $$("[role=tab]");
  function selectTab(name, focus) {
    activeTab = name;
    for (const t of tabs) {
      const on = t.dataset.tab === name;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(`#${t.getAttribute("aria-controls")}`).hidden = !on;
      if (on && focus) t.focus();
    }
    if (history.replaceState) history.replaceState(null, "", `#${name}`);
    // Hidden panels are not kept up to date (cheaper): bring the shown one up to date now.
    if (name === "stats") renderStats(true);
    if (name === "failures" || name === "exceptions") renderFailures(true);
    if (name === "charts") for (const c of charts) c.resize();
    if (name === "ratio") loadRatio();
    updatePanels();
    if (name === "logs") {
      unseen = 0;
      updateBadge();
      scrollLogs();
    }
  }
  $("#btn-history").addEventListener("click", () => $("#tab-history").click());
  for (const t of tabs) {
    t.addEventListener("click", () => selectTab(t.dataset.tab));
    // Arrow keys move between tabs (WAI-ARIA tabs pattern).
    t.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(t);
      let j = -1;
      if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = tabs.length - 1;
      if (j >= 0) {
        e.preventDefault();
        selectTab(tabs[j].dataset.tab, true);
      }
    });
  }

  // ---------------------------------------------------------------- current ratio
  let ratioLoading = false;
  async function loadRatio() {
    if (ratioLoading) return;
    ratioLoading = true;
    const note = $("#ratio-note");
    try {
      const res = await fetch("/tasks", { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
      renderRatio(await res.json());
      note.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      note.textContent = `Could not load /tasks: ${err.message}`;
    } finally {
      ratioLoading = false;
    }
  }

  /**
   * Accepts Locust's shape {per_class: {Name: {ratio, tasks: {task: ratio}}}, total: {...}}
   * (Surge names user classes "scenarios"; both keys are read).
   */
  function renderRatio(data) {
    const box = $("#ratio");
    box.textContent = "";
    const groups = [];
    const per = data.per_scenario || data.per_class || {};
    for (const [name, v] of Object.entries(per)) groups.push({ title: name, ratio: v.ratio, tasks: v.tasks || {} });
    if (data.total) {
      // Surge's total is {scenario: {ratio, tasks: {task: overall share}}}: flatten it to
      // "scenario · task"; a flat {task: share} map (Locust) is used as is.
      const tasks = {};
      for (const [k, v] of Object.entries(data.total.tasks || data.total)) {
        if (v && typeof v === "object" && v.tasks) {
          for (const [t, r] of Object.entries(v.tasks)) tasks[`${k} · ${t}`] = r;
        } else {
          tasks[k] = v;
        }
      }
      if (Object.keys(tasks).length) groups.push({ title: "Total", ratio: null, tasks });
    }
    if (!groups.length) {
      box.textContent = "No scenarios loaded.";
      return;
    }
    for (const g of groups) box.append(ratioGroup(g));
  }

  function ratioGroup(g) {
    const sec = document.createElement("section");
    sec.className = "ratio-group card";
    const h = document.createElement("h3");
    h.textContent = g.title + (g.ratio != null ? ` — ${fmtPct(100 * g.ratio)} of users` : "");
    sec.append(h);
    const list = document.createElement("ul");
    const entries = Object.entries(g.tasks).map(([k, v]) => [k, typeof v === "object" && v ? v.ratio : v]);
    entries.sort((a, b) => b[1] - a[1]);
    for (const [task, r] of entries) {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.className = "ratio-label";
      label.textContent = `${task}`;
      const bar = document.createElement("span");
      bar.className = "ratio-bar";
      const fill = document.createElement("span");
      fill.style.width = `${Math.max(0, Math.min(100, 100 * r))}%`;
      bar.append(fill);
      const val = document.createElement("span");
      val.className = "num";
      val.textContent = fmtPct(100 * r);
      li.append(label, bar, val);
      list.append(li);
    }
    sec.append(list);
    return sec;
  }
  $("#ratio-refresh").addEventListener("click", loadRatio);

  // ---------------------------------------------------------------- logs
  const MAX_LOG_LINES = 2000;
  let unseen = 0;
  const logList = $("#logs");

  function addLog(l, quiet) {
    const li = document.createElement("li");
    li.className = `log-${l.level}`;
    const time = document.createElement("time");
    time.dateTime = new Date(l.time * 1000).toISOString();
    time.textContent = new Date(l.time * 1000).toLocaleTimeString();
    const lvl = document.createElement("span");
    lvl.className = "log-level";
    lvl.textContent = l.level.toUpperCase();
    const msg = document.createElement("span");
    msg.className = "log-msg";
    msg.textContent = l.message;
    li.append(time, lvl, msg);
    logList.append(li);
    $("#logs-note").textContent = "";
    // Bounded DOM: a chatty run must not grow the page forever.
    while (logList.childElementCount > MAX_LOG_LINES) logList.firstElementChild.remove();
    if (!quiet && activeTab !== "logs" && (l.level === "warning" || l.level === "error")) {
      unseen++;
      updateBadge();
    }
  }
  function setLogs(lines) {
    logList.textContent = "";
    for (const l of lines.slice(-MAX_LOG_LINES)) addLog(l, true);
    $("#logs-note").textContent = lines.length ? "" : "No log lines yet.";
    scrollLogs();
  }
  function updateBadge() {
    const b = $("#badge-logs");
    b.hidden = unseen === 0;
    b.textContent = unseen > 999 ? "999+" : String(unseen);
    b.setAttribute("aria-label", `${unseen} new warnings or errors`);
  }
  function scrollLogs() {
    if ($("#logs-follow").checked && activeTab === "logs") logList.scrollTop = logList.scrollHeight;
  }

  // ---------------------------------------------------------------- live connection
  let flashTimer = 0;
  function flash(text) {
    const c = $("#conn");
    c.textContent = text;
    c.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { c.hidden = true; }, 6000);
  }

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
        if (d.logs) setLogs(d.logs);
      }
      if (d.resumed && d.logs) for (const l of d.logs) addLog(l);
      renderSnapshot(d.snapshot);
      renderStats(true);
      renderFailures(true);
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
      addLog(l);
      scrollLogs();
    });
    es.addEventListener("error", () => {
      // EventSource retries by itself (with Last-Event-ID); just say so.
      const c = $("#conn");
      c.textContent = es.readyState === EventSource.CLOSED
        ? "Disconnected from Surge. Reload the page to reconnect."
        : "Connection lost, reconnecting…";
      c.hidden = false;
      clearTimeout(flashTimer);
    });
    es.addEventListener("open", () => { $("#conn").hidden = true; });
  }

  // ---------------------------------------------------------------- start
  fillStartForm();
  const initial = (location.hash || "").slice(1);
  selectTab(tabs.some((t) => t.dataset.tab === initial) ? initial : "stats");
  updatePanels();
  connect();
})(window);
