// Surge live dashboard: the breaking-point search. The start form's "Find limit" choice
// shows the search's fields and posts them to /find-limit; the Find Limit tab polls
// /find-limit once a second while a search runs and shows its plan, the step table, the
// answer (limit, where it broke and why, the knee) and throughput against load; the step
// running now is shaded on the charts (live.js reads `state.limitStep`).
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, $$, fmtInt, fmtMs, fmtRate, state } = D;
  const form = $("#start-form");

  // ---------------------------------------------------------------- the form's choice
  function mode() {
    const checked = $("input[name=mode]:checked", form);
    return checked ? checked.value : "test";
  }
  function showMode() {
    const limit = mode() === "limit";
    for (const el of $$(".mode-test", form)) el.hidden = limit;
    for (const el of $$(".mode-limit", form)) el.hidden = !limit;
    $("button[type=submit]", form).textContent = limit ? "Find limit" : "Start";
  }
  for (const r of $$("input[name=mode]", form)) r.addEventListener("change", showMode);

  // Runs before forms.js's handler (registered in the capture phase): a search is posted
  // to /find-limit instead of /swarm.
  form.addEventListener("submit", async (e) => {
    if (mode() !== "limit") return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const ok = await D.submitForm(form, "/find-limit",
      ["host", "metrics", "thresholds", "start", "max_users", "step_time", "resolution"]);
    if (!ok) return;
    state.wantStartForm = false;
    document.body.dataset.state = "spawning";
    $("#start-panel").hidden = true;
    $("#dashboard").hidden = false;
    $("#tab-limit").click();
    poll();
  }, true);

  // ---------------------------------------------------------------- the tab
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    let board;
    try {
      const res = await fetch("/find-limit");
      board = await res.json();
    } catch (_) {
      timer = setTimeout(poll, 2000);
      return;
    }
    render(board);
    state.limitStep = board.running && board.current ? board.current : null;
    if (board.running) timer = setTimeout(poll, 1000);
  }

  function li(list, text) {
    const el = document.createElement("li");
    el.textContent = text;
    list.append(el);
  }

  function render(b) {
    const has = b && (b.running || b.steps.length || b.result || b.error);
    $("#limit-empty").hidden = !!has;
    $("#limit-view").hidden = !has;
    if (!has) return;
    const plan = $("#limit-plan");
    plan.textContent = "";
    for (const line of b.plan || []) li(plan, line);
    const summary = $("#limit-summary");
    summary.textContent = "";
    if (b.running && b.current) {
      li(summary, `Running step ${b.current.n}: ${b.current.level} ${b.model === "rate" ? "starts/s" : "users"}` +
        `${b.current.confirmation ? " (again, to confirm)" : ""}…`);
    }
    for (const line of b.summary || []) li(summary, line);
    if (b.error) li(summary, `The search stopped: ${b.error}`);
    table(b);
    chart(b);
  }

  function table(b) {
    const t = $("#limit-table");
    const unit = b.model === "rate" ? "starts/s" : "users";
    const cols = ["step", unit, "req/s", "p50 ms", "p95 ms", "p99 ms", "fail %", "generator", "verdict"];
    const head = document.createElement("tr");
    for (const c of cols) {
      const th = document.createElement("th");
      th.textContent = c;
      head.append(th);
    }
    t.tHead.replaceChildren(head);
    const rows = (b.steps || []).map((s, i) => {
      const tr = document.createElement("tr");
      tr.className = `verdict-${s.verdict}`;
      const cells = [
        i + 1, s.level, fmtRate(s.rps), fmtMs(s.p50_ms), fmtMs(s.p95_ms), fmtMs(s.p99_ms),
        (100 * s.fail_ratio).toFixed(2), s.generator ? "overloaded" : "ok",
        s.verdict + (s.confirmation ? " (again)" : ""),
      ];
      for (const c of cells) {
        const td = document.createElement("td");
        td.textContent = String(c);
        tr.append(td);
      }
      if (s.verdict === "fail" && s.top_failures && s.top_failures.length) {
        tr.title = s.top_failures.map((f) => `${fmtInt(f.occurrences)} × ${f.method} ${f.name}: ${f.message}`).join("\n");
      }
      return tr;
    });
    t.tBodies[0].replaceChildren(...rows);
  }

  /** Successful req/s against level: one point per level (its last step), passes and fails
   *  apart (fast failures are not throughput). */
  function chart(b) {
    const svg = $("#limit-chart");
    const NS = "http://www.w3.org/2000/svg";
    const byLevel = new Map();
    for (const s of b.steps || []) if (s.verdict !== "inconclusive") byLevel.set(s.level, s);
    const pts = [...byLevel.values()].sort((a, c) => a.level - c.level);
    svg.replaceChildren();
    if (!pts.length) return;
    const [W, H, L, B] = [600, 220, 50, 30];
    const maxX = Math.max(...pts.map((p) => p.level)) || 1;
    const ok = (p) => p.rps * (1 - p.fail_ratio);
    const maxY = Math.max(...pts.map(ok)) || 1;
    const x = (v) => L + (v / maxX) * (W - L - 10);
    const y = (v) => H - B - (v / maxY) * (H - B - 10);
    const el = (name, attrs, text) => {
      const n = document.createElementNS(NS, name);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text != null) n.textContent = text;
      svg.append(n);
      return n;
    };
    el("line", { x1: L, y1: H - B, x2: W - 10, y2: H - B, class: "axis" });
    el("line", { x1: L, y1: 10, x2: L, y2: H - B, class: "axis" });
    el("text", { x: L - 6, y: 16, "text-anchor": "end" }, fmtRate(maxY));
    el("text", { x: L - 6, y: H - B, "text-anchor": "end" }, "0");
    el("text", { x: W - 10, y: H - 8, "text-anchor": "end" }, `${maxX} ${b.model === "rate" ? "starts/s" : "users"}`);
    el("text", { x: L, y: H - 8 }, "0");
    el("polyline", { points: pts.map((p) => `${x(p.level)},${y(ok(p))}`).join(" "), class: "line" });
    for (const p of pts) {
      el("circle", { cx: x(p.level), cy: y(ok(p)), r: 4, class: p.verdict === "pass" ? "pass" : "fail" })
        .append(Object.assign(document.createElementNS(NS, "title"), {
          textContent: `${p.level}: ${fmtRate(ok(p))} successful req/s, ${p.verdict}`,
        }));
    }
  }

  // A search started before the page opened (or by a script) shows up too.
  poll();
  Object.assign(D, { pollLimit: poll });
})(window);
