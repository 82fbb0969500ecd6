// Surge live dashboard: the start form, the edit dialog of a running test, and the Stop and
// Reset buttons. Fields are checked with HTML5 validity first, with our own messages; the
// server's 4xx answers ({"error", "field"}) land next to the field they name.
"use strict";

(function (global) {
  const D = global.SurgeDash;
  const { $, $$, config, state, updatePanels, flash } = D;

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
      ["user_count", "spawn_rate", "host", "metrics", "run_time", "rate", "scenario"]);
    if (ok) {
      // Remember what was asked so "Edit" and "New" start from it.
      const f = form.elements;
      config.users = Number(f.user_count.value);
      config.spawn_rate = Number(f.spawn_rate.value);
      config.host = f.host.value;
      state.wantStartForm = false;
      // Show the dashboard at once; the next snapshot confirms the state.
      const snap = state.snap;
      if (snap) snap.state = snap.state === "ready" || snap.state === "stopped" ? "spawning" : snap.state;
      document.body.dataset.state = "spawning";
      $("#start-panel").hidden = true;
      $("#dashboard").hidden = false;
    }
  });

  $("#start-cancel").addEventListener("click", () => {
    state.wantStartForm = false;
    updatePanels();
  });

  $("#btn-new").addEventListener("click", () => {
    state.wantStartForm = true;
    clearErrors($("#start-form"));
    updatePanels();
    $("#f-users").focus();
  });

  const dialog = $("#edit-dialog");
  $("#btn-edit").addEventListener("click", () => {
    const form = $("#edit-form");
    clearErrors(form);
    const snap = state.snap;
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

  Object.assign(D, { fillStartForm, submitForm });
})(window);
