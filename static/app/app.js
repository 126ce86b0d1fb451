// Send the CSRF token with every htmx request (forms carry it in a hidden field).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});
// Confirm buttons: <button data-confirm="...">
document.addEventListener("submit", function (event) {
  var submitter = event.submitter;
  var message = (submitter && submitter.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) { event.preventDefault(); }
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
