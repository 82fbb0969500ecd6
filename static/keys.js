// Surge live dashboard: keyboard shortcuts (listed under "?") and notifications. With
// notifications on (the Notify button), the end of a test, a threshold that fails and the first
// failed request each raise a browser notification (when the browser allows them) and a
// dot on the tab's icon until the page is looked at again.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, state } = D;

  // ---------------------------------------------------------------- shortcuts
  /** [key, what, action]; the tab numbers are added below. */
  const KEYS = [
    ["s", "Start the test (from the start form), or stop the running one", () => {
      if (!$("#start-panel").hidden) $("#start-form").requestSubmit();
      else if (!$("#btn-stop").hidden) $("#btn-stop").click();
    }],
    ["e", "Edit the running test (users, rate)", () => { if (!$("#btn-edit").hidden) $("#btn-edit").click(); }],
    ["n", "New test (after one stopped)", () => { if (!$("#btn-new").hidden) $("#btn-new").click(); }],
    ["r", "Reset the statistics", () => { if (!$("#btn-reset").hidden) $("#btn-reset").click(); }],
    ["?", "Show these shortcuts", () => showKeys()],
  ];
  const tabKeys = () => D.tabs.slice(0, 10).map((t, i) => [String((i + 1) % 10), `Tab “${t.textContent.trim().replace(/\s+\d+$/, "")}”`, () => D.selectTab(t.dataset.tab, true)]);

  function showKeys() {
    const list = $("#keys-list");
    list.textContent = "";
    for (const [key, what] of KEYS.concat(tabKeys())) {
      const dt = document.createElement("dt");
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.append(kbd);
      const dd = document.createElement("dd");
      dd.textContent = what;
      list.append(dt, dd);
    }
    const dlg = $("#keys-dialog");
    if (!dlg.open) dlg.showModal();
    $("#keys-close").focus();
  }
  $("#keys-close").addEventListener("click", () => $("#keys-dialog").close());
  $("#btn-keys").addEventListener("click", showKeys);

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const t = e.target;
    // Typing in a field, or a dialog open: the keys are the user's.
    if (t.closest && t.closest("input, textarea, select, [contenteditable], dialog[open]")) return;
    if (document.querySelector("dialog[open]")) return;
    const hit = KEYS.concat(tabKeys()).find(([k]) => k === e.key);
    if (!hit) return;
    e.preventDefault();
    hit[2]();
  });

  // ---------------------------------------------------------------- notifications
  const NOTIFY_KEY = "surge-notify";
  let notify = false;
  try { notify = localStorage.getItem(NOTIFY_KEY) === "on"; } catch (_) { /* off */ }
  const icon = document.querySelector("link[rel=icon]");
  const plainIcon = icon ? icon.href : "";
  let badged = false;

  function showNotify() {
    const b = $("#btn-notify");
    b.setAttribute("aria-pressed", notify ? "true" : "false");
    b.textContent = "Notify";
    b.title = notify
      ? "Notifications on: the end of a test, a failed threshold and the first failure"
      : "Notifications off";
  }
  $("#btn-notify").addEventListener("click", async () => {
    notify = !notify;
    try { localStorage.setItem(NOTIFY_KEY, notify ? "on" : "off"); } catch (_) { /* ignore */ }
    if (notify && global.Notification && Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch (_) { /* the badge still works */ }
    }
    showNotify();
  });
  showNotify();

  /** The tab's icon with a red dot (drawn once from the plain icon). */
  function badge(on) {
    if (!icon || on === badged) return;
    badged = on;
    if (!on) {
      icon.href = plainIcon;
      return;
    }
    const img = new Image();
    img.onload = () => {
      const c = document.createElement("canvas");
      c.width = c.height = 64;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0, 64, 64);
      ctx.fillStyle = "#dc2626";
      ctx.beginPath();
      ctx.arc(48, 16, 14, 0, 2 * Math.PI);
      ctx.fill();
      if (badged) icon.href = c.toDataURL("image/png");
    };
    img.src = plainIcon;
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden) badge(false); });
  global.addEventListener("focus", () => badge(false));

  function tell(title, body) {
    if (!notify) return;
    D.notified = (D.notified || []).concat([{ title, body }]);
    badge(true);
    if (global.Notification && Notification.permission === "granted") {
      try { new Notification(title, { body, icon: plainIcon, tag: "surge" }); } catch (_) { /* badge only */ }
    }
  }

  // What has been told for the current run, so each event is told once.
  let seen = { run: null, state: null, failure: false, thresholds: new Set() };
  /** Called with every snapshot (live.js). */
  D.notifyOn = function (s) {
    if (seen.run !== s.run) {
      seen = { run: s.run, state: s.state, failure: !!s.first_failure, thresholds: new Set() };
      return;
    }
    if (s.state === "stopped" && seen.state && seen.state !== "stopped") {
      const t = s.total;
      tell(`Surge: run #${s.run} ended`, `${t.num_requests} requests, ${t.num_failures} failed`);
    }
    seen.state = s.state;
    if (s.first_failure && !seen.failure) {
      const f = s.first_failure;
      tell("Surge: failures started", `${f.method} ${f.name}: ${f.message}`);
    }
    seen.failure = !!s.first_failure;
  };
  /** Called with the live threshold results (history.js). */
  D.notifyThresholds = function (results) {
    for (const r of results || []) {
      if (r.passed === false && !seen.thresholds.has(r.threshold)) {
        seen.thresholds.add(r.threshold);
        tell(`Surge: threshold failed`, `${r.threshold}: ${r.message}`);
      }
    }
  };
})(window);
