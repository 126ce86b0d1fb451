// Drafts: nothing typed is lost when a form is refused for its CSRF token or because the
// session ended while the page was open.
//
// When a POST form is sent, what it holds is kept in this tab's sessionStorage, keyed by
// the form's method and action: never passwords, files, hidden fields (the CSRF token and
// the like come from the server) or fields named like a secret.
// The next page decides what becomes of it:
// - marked `data-draft-restore` on <main id="content"> (core/resubmit.py: the server
//   sent the browser back after a refused token): each form of the page with a kept
//   draft gets its values back;
// - a login page (body.auth-page: login, code, second factor...): the drafts wait, and
//   the first page after the login restores them (login returns to `next`);
// - any other page: the drafts are dropped (the form was sent, or abandoned).
(function () {
  "use strict";
  var KEY = "drafts";
  var AWAITING = "drafts:awaiting-login";
  var SECRET = /pass(word|wd)?|senha|secret|token|^code$/i;
  var SKIPPED = ["password", "file", "hidden", "submit", "button", "reset", "image"];

  function read() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function write(drafts) {
    try {
      if (Object.keys(drafts).length) { window.sessionStorage.setItem(KEY, JSON.stringify(drafts)); }
      else { window.sessionStorage.removeItem(KEY); }
    } catch (e) { /* storage full or disabled: nothing kept */ }
  }
  function keyOf(form) {
    return (form.getAttribute("method") || "get").toLowerCase() + " " + form.action;
  }
  function kept(el) {
    var type = (el.type || "").toLowerCase();
    return el.name && !el.disabled && SKIPPED.indexOf(type) < 0 && !SECRET.test(el.name)
      && !el.hasAttribute("data-no-draft");
  }

  // name -> list of values in document order (checkboxes and radios: the checked values;
  // a multiple select: its selected values).
  function snapshot(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) { return; }
      var list = values[el.name] || (values[el.name] = []);
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (el.checked) { list.push(el.value); }
      } else if (type === "select-multiple") {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { list.push(o.value); });
      } else {
        list.push(el.value);
      }
    });
    return values;
  }

  function restore(form, values) {
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el) || !Object.prototype.hasOwnProperty.call(values, el.name)) { return; }
      var list = values[el.name];
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        el.checked = list.indexOf(el.value) >= 0;
      } else if (type === "select-multiple") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = list.indexOf(o.value) >= 0; });
      } else {
        var i = seen[el.name] || 0;
        if (i < list.length) { el.value = list[i]; }
        seen[el.name] = i + 1;
      }
    });
    form.setAttribute("data-draft-restored", "");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) { return; }
    if ((form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("data-no-draft")) { return; }
    var drafts = read();
    drafts[keyOf(form)] = snapshot(form);
    write(drafts);
  });

  var main = document.getElementById("content");
  var onLoginPage = document.body.classList.contains("auth-page");
  var drafts = read();
  var awaiting = window.sessionStorage.getItem(AWAITING) === "1";
  if ((main && main.hasAttribute("data-draft-restore")) || (awaiting && !onLoginPage)) {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      var key = keyOf(form);
      if (Object.prototype.hasOwnProperty.call(drafts, key)) {
        restore(form, drafts[key]);
        delete drafts[key];
      }
    });
  }
  try {
    if (onLoginPage) {
      window.sessionStorage.setItem(AWAITING, "1");
      write(drafts);
    } else {
      window.sessionStorage.removeItem(AWAITING);
      write({});
    }
  } catch (e) { /* storage disabled */ }
})();
