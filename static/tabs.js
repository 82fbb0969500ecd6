// Surge live dashboard: switching tabs (click, arrow keys, the URL's #hash), and the two
// tabs that fill themselves: Current Ratio (fetched from /tasks when shown) and Logs (lines
// from the event stream, with a badge counting new warnings while the tab is not shown).
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, $$, fmtPct, state, updatePanels } = D;

  // ---------------------------------------------------------------- tabs
  const tabs = $$("[role=tab]");
  function selectTab(name, focus) {
    state.activeTab = name;
    for (const t of tabs) {
      const on = t.dataset.tab === name;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(`#${t.getAttribute("aria-controls")}`).hidden = !on;
      if (on && focus) t.focus();
    }
    if (history.replaceState) history.replaceState(null, "", `#${name}`);
    // Hidden panels are not kept up to date (cheaper): bring the shown one up to date now.
    if (name === "stats") D.renderStats(true);
    if (name === "charts" && D.loadDistribution) D.loadDistribution();
    if (name === "failures" || name === "exceptions") D.renderFailures(true);
    if (name === "charts") for (const c of D.charts) c.resize();
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
    if (!quiet && state.activeTab !== "logs" && (l.level === "warning" || l.level === "error")) {
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
    if ($("#logs-follow").checked && state.activeTab === "logs") logList.scrollTop = logList.scrollHeight;
  }

  Object.assign(D, { tabs, selectTab, loadRatio, addLog, setLogs, scrollLogs });
})(window);
