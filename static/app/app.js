// Send the CSRF token with every htmx request (forms carry it in a hidden field).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// --- Confirmation dialog ------------------------------------------------------------
// A submit whose submitter or form carries data-confirm="message" (and optionally
// data-confirm-title, data-confirm-ok, data-confirm-variant="danger|primary",
// data-confirm-if) first asks in
// the page's one modal (#confirm-modal, core/templates/base.html). htmx requests ask too,
// with hx-confirm or data-confirm on the element. Cancel has the focus; Esc cancels; the
// focus goes back to the button that asked. Confirming submits again with the same
// submitter (so formaction and form= keep working) without asking twice.
(function () {
  "use strict";
  var modalEl = document.getElementById("confirm-modal");
  var pass = null; // the submit a confirmation let through: {form, submitter}
  var state = null; // the question on screen: {trigger, run, accepted, shown}

  // data-confirm-if="selector": ask only while the form holds a match (a box ticked).
  function confirmSource(form, submitter) {
    var source = null;
    if (submitter && submitter.hasAttribute("data-confirm")) { source = submitter; }
    else if (form && form.hasAttribute("data-confirm")) { source = form; }
    var only = source && source.getAttribute("data-confirm-if");
    if (only && !(form && form.querySelector(only))) { return null; }
    return source;
  }

  function ask(source, message, trigger, run) {
    if (!modalEl || !window.bootstrap) { return; } // never proceed unasked
    var data = source ? source.dataset : {};
    var title = modalEl.querySelector("#confirm-modal-title");
    var ok = modalEl.querySelector("#confirm-modal-ok");
    title.textContent = data.confirmTitle || title.dataset.defaultText;
    modalEl.querySelector("#confirm-modal-message").textContent = message;
    ok.textContent = data.confirmOk || ok.dataset.defaultText;
    ok.className = "btn " + (data.confirmVariant === "primary" ? "btn-primary" : "btn-danger");
    state = { trigger: trigger, run: run, accepted: false, shown: false };
    window.bootstrap.Modal.getOrCreateInstance(modalEl).show();
  }

  if (modalEl) {
    modalEl.addEventListener("shown.bs.modal", function () {
      if (state) { state.shown = true; }
      if (state && state.accepted) { window.bootstrap.Modal.getOrCreateInstance(modalEl).hide(); return; }
      modalEl.querySelector("#confirm-modal-cancel").focus();
    });
    modalEl.querySelector("#confirm-modal-ok").addEventListener("click", function () {
      if (!state) { return; }
      state.accepted = true;
      // Bootstrap ignores hide() while the modal fades in: a quick click hides once shown.
      if (state.shown) { window.bootstrap.Modal.getOrCreateInstance(modalEl).hide(); }
    });
    modalEl.addEventListener("hidden.bs.modal", function () {
      var done = state;
      state = null;
      if (!done) { return; }
      if (done.trigger && document.contains(done.trigger)) { done.trigger.focus(); }
      if (done.accepted) { done.run(); }
    });
  }

  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; } // htmx's own forms: asked through htmx:confirm
    var form = event.target;
    var submitter = event.submitter || null;
    var source = confirmSource(form, submitter);
    if (!source) { return; }
    if (pass && pass.form === form && pass.submitter === submitter) { pass = null; return; }
    event.preventDefault();
    ask(source, source.dataset.confirm, submitter || form.querySelector("[type=submit], button:not([type])"), function () {
      pass = { form: form, submitter: submitter };
      if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
    });
  });

  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    var source = confirmSource(elt, submitter);
    var message = event.detail.question || (source && source.dataset.confirm);
    if (!message) { return; }
    event.preventDefault();
    ask(source || elt, message, submitter || elt, function () { event.detail.issueRequest(true); });
  });
})();

// --- Toasts ---------------------------------------------------------------------------
// Flashed messages arrive as plain alerts (they stay so without JavaScript) and become
// toasts in #toasts; an htmx response names its own in the HX-Trigger header
// ({"toast": {"message": ..., "level": ...}}, core/feedback.py). Success and info are
// polite (role=status) and hide by themselves; warnings and errors are alerts and stay
// until closed.
(function () {
  "use strict";
  var container = document.getElementById("toasts");
  var STYLES = { success: "success", info: "primary", warning: "warning", error: "danger", danger: "danger" };
  var ICONS = { success: "check-circle-fill", info: "info-circle-fill", warning: "exclamation-triangle-fill", error: "x-octagon-fill", danger: "x-octagon-fill" };

  function show(message, level) {
    if (!container || !message) { return; }
    level = STYLES[level] ? level : "info";
    var urgent = level === "error" || level === "danger" || level === "warning";
    var toast = document.createElement("div");
    toast.className = "toast app-toast border-0 border-start border-4 border-" + STYLES[level];
    toast.setAttribute("role", urgent ? "alert" : "status");
    toast.setAttribute("aria-atomic", "true");
    toast.dataset.level = level;
    var row = document.createElement("div");
    row.className = "d-flex align-items-start";
    var body = document.createElement("div");
    body.className = "toast-body flex-grow-1";
    var icon = document.createElement("i");
    icon.className = "bi bi-" + ICONS[level] + " text-" + STYLES[level] + " me-2";
    icon.setAttribute("aria-hidden", "true");
    body.appendChild(icon);
    body.appendChild(document.createTextNode(message));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close m-2 flex-shrink-0";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", container.dataset.closeLabel || "Close");
    row.appendChild(body);
    row.appendChild(close);
    toast.appendChild(row);
    container.appendChild(toast);
    toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
    if (window.bootstrap) {
      window.bootstrap.Toast.getOrCreateInstance(toast, { autohide: !urgent, delay: 6000 }).show();
    } else {
      toast.classList.add("show");
    }
  }

  function fromFlashes(root) {
    if (!container || !root.querySelectorAll) { return; }
    root.querySelectorAll("[data-flash]").forEach(function (alert) {
      show(alert.dataset.message || alert.textContent.trim(), alert.dataset.flash);
      alert.remove();
    });
  }

  fromFlashes(document);
  // A page part swapped in by htmx may carry flashes of its own.
  document.addEventListener("htmx:load", function (event) { fromFlashes(event.detail.elt); });
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    (detail.items || [detail]).forEach(function (item) { show(item.message, item.level); });
  });
  window.appToast = show;
})();

// An htmx request whose session ended (401): load the page again, which lands on the
// login page saying why (auth/session_loader.py).
document.addEventListener("htmx:responseError", function (event) {
  if (event.detail.xhr && event.detail.xhr.status === 401) { window.location.reload(); }
});

// Auto-submit selects in filter forms marked data-autosubmit.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches("[data-autosubmit]")) { el.form.requestSubmit(); }
});

// A colour picker writes its value into the text field it names (data-sync="#id").
document.addEventListener('input', function (event) {
  var selector = event.target.getAttribute && event.target.getAttribute('data-sync');
  var field = selector && document.querySelector(selector);
  if (field) { field.value = event.target.value; }
});

// keyboard: the skip link moves the focus to the main content without adding
// "#content" to the address (a login's redirect would carry it to the next page).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.skip-link");
  var main = link && document.getElementById("content");
  if (main) { event.preventDefault(); main.focus(); main.scrollIntoView(); }
});

// keyboard: a table wider than its box scrolls sideways; the box then takes the focus
// (arrow keys scroll it) and is named by the table's caption. Checked on load, after
// each htmx swap and when the window is resized.
function focusScrollingTables(root) {
  (root || document).querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); box.dataset.scrollFocus = ""; }
      var caption = box.querySelector("caption");
      if (caption && !box.hasAttribute("aria-label")) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", caption.textContent.trim());
      }
    } else if (box.hasAttribute("data-scroll-focus")) {
      box.removeAttribute("tabindex"); box.removeAttribute("data-scroll-focus");
      box.removeAttribute("role"); box.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", function () { focusScrollingTables(document); });
document.addEventListener("htmx:afterSettle", function () { focusScrollingTables(document); });
window.addEventListener("resize", function () { focusScrollingTables(document); });
