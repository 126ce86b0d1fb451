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

// keyboard: the skip link moves the focus to the main content without adding
// "#content" to the address (a login's redirect would carry it to the next page).
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.skip-link");
  var main = link && document.getElementById("content");
  if (main) { event.preventDefault(); main.focus(); main.scrollIntoView(); }
});
