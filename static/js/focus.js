/* Library Classes — where keyboard focus goes when a page comes back (public site and back office).
 *
 * 1. A page that comes back with errors: focus moves to its error summary ([data-error-summary],
 *    which has tabindex="-1"; on the Django admin's own change forms, the form's .errornote), so a
 *    screen reader reads the problems first and a keyboard user starts from the links to them.
 *    A form with no summary (field errors only): its first field in error.
 * 2. A button with data-refocus="<id>" (the checkout's "Update" next to "how many attendees"):
 *    after the reload it caused, focus returns to the control it names, not to the page's top.
 * Without scripts nothing changes but where focus starts.
 */
(function () {
  "use strict";

  var KEY = "lc-refocus";

  function remembered() {
    try {
      var raw = window.sessionStorage.getItem(KEY);
      window.sessionStorage.removeItem(KEY);
      var saved = raw ? JSON.parse(raw) : null;
      return saved && saved.path === window.location.pathname ? saved.id : null;
    } catch (e) {
      return null;
    }
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.dataset || !button.dataset.refocus) { return; }
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify({path: window.location.pathname, id: button.dataset.refocus}));
    } catch (e) { /* storage refused: focus starts at the top, as without scripts */ }
  });

  function place() {
    var back = remembered();
    var summary = document.querySelector("[data-error-summary]") ||
      document.querySelector(".change-form #content-main form .errornote");
    if (summary) {
      if (!summary.hasAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
      summary.focus();
      return;
    }
    // A staff form with field errors only: its first field in error.
    var list = document.querySelector("#content-main form ul.errorlist");
    var row = list && list.closest(".form-row, fieldset, tr, td");
    var invalid = document.querySelector("form [aria-invalid='true']") ||
      (row && row.querySelector("input:not([type=hidden]), select, textarea"));
    if (invalid) {
      invalid.focus();
      return;
    }
    var control = back && document.getElementById(back);
    if (control) { control.focus(); }
  }

  // After "load": the admin's own scripts (change_form.js focuses an add form's first field) run first.
  if (document.readyState === "complete") { place(); } else { window.addEventListener("load", place); }
}());
