/* Library Classes — small behaviours of the back office's own pages, loaded on every admin page
 * (templates/admin/base_site.html). Static so the Content-Security-Policy needs no inline script;
 * every page works without it.
 *
 * - [data-print] buttons print the page (rosters, call list, receipts, money reports).
 * - The desk's payment form shows the check number and payer only for checks (always shown
 *   without JavaScript, and kept when they carry an error).
 * - The desk's class lists (select.desk-course) become searchable with the select2 the admin
 *   ships, where the page loads it.
 */
(function () {
  "use strict";

  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function checkOnlyFields() {
    var method = document.querySelectorAll("input[name='pay-provider']");
    if (!method.length) { return; }
    var checkOnly = document.querySelectorAll(".field-reference, .field-payer");
    function show() {
      var chosen = document.querySelector("input[name='pay-provider']:checked");
      var isCheck = chosen !== null && chosen.value === "check";
      checkOnly.forEach(function (row) { row.hidden = !isCheck && !row.classList.contains("errors"); });
    }
    method.forEach(function (input) { input.addEventListener("change", show); });
    show();
  }

  function searchableClassLists() {
    var jq = window.django && window.django.jQuery;
    if (!jq || !jq.fn || !jq.fn.select2) { return; }
    jq("select.desk-course").select2({width: "100%", placeholder: "Choose a class…", allowClear: true});
  }

  function ready() {
    printButtons();
    checkOnlyFields();
    searchableClassLists();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
