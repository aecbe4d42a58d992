/* Library Classes — accessible names for the searchable class, venue and instructor lists of the
 * back office (the select2 Django's admin ships). select2 hides the real <select> and shows a
 * combobox whose name points at an empty element until something is chosen; this gives that
 * element the name of the <select>: its <label>'s text, or its aria-label (table rows). */
(function () {
  "use strict";

  function nameOf(select) {
    var label = select.id && document.querySelector("label[for='" + select.id + "']");
    var text = label ? label.textContent : (select.getAttribute("aria-label") || "");
    return text.replace(/[:\s]+$/, "").trim();
  }

  function nameAll() {
    var selects = document.querySelectorAll("select.select2-hidden-accessible");
    Array.prototype.forEach.call(selects, function (select) {
      var name = nameOf(select);
      var rendered = select.id && document.getElementById("select2-" + select.id + "-container");
      if (name && rendered) { rendered.setAttribute("aria-label", name); }
    });
  }

  // select2 builds its combobox whenever jQuery gets round to it (on ready, when "Add another"
  // adds a row): name each one as it appears.
  var queued = false;
  new MutationObserver(function (records) {
    var built = records.some(function (record) {
      return Array.prototype.some.call(record.addedNodes, function (node) {
        return node.nodeType === 1 && node.classList.contains("select2");
      });
    });
    if (built && !queued) {
      queued = true;
      window.queueMicrotask(function () { queued = false; nameAll(); });
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
  nameAll();
}());
