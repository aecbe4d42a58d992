/* Library Classes — the checkout form (templates/enrollment/checkout.html), progressively enhanced.
 *
 * Without scripts the page works as it is: choose how many attendees and press "Update" (the
 * server re-renders the page with that many attendee forms), and the total is the server's.
 * With scripts:
 *  - changing "Attendees for this class" shows or hides the attendee forms at once (the server
 *    renders the spare ones hidden and disabled), with no "Update" button and no reload; focus
 *    stays on the count control;
 *  - an attendee who is "Myself" gets the buyer's name (until the patron types another);
 *  - the running total follows the counts and the scholarship boxes, by the rule of
 *    enrollment/checkout_total.py: in each class the first attendees take the seats left, at the
 *    fee or at half price with a Pass the Buck scholarship; the rest go on the waitlist, free.
 * The server checks everything again when the order is placed.
 */
(function () {
  "use strict";

  var form = document.querySelector("form.checkout-form");
  if (!form) { return; }

  var blocks = Array.prototype.slice.call(form.querySelectorAll("fieldset.class-block"));
  var buyerFirst = form.querySelector("[name='buyer-first_name']");
  var buyerLast = form.querySelector("[name='buyer-last_name']");

  function cents(text) {
    var parts = String(text || "0").split(".");
    var whole = parseInt(parts[0], 10) || 0;
    var frac = parseInt(((parts[1] || "") + "00").slice(0, 2), 10) || 0;
    return whole * 100 + frac;
  }

  function money(amount) {
    if (amount === 0) { return "Free"; }
    var dollars = Math.floor(amount / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = amount % 100;
    return "$" + dollars + "." + (rest < 10 ? "0" : "") + rest;
  }

  function attendees(block) {
    return Array.prototype.slice.call(block.querySelectorAll("fieldset.attendee"));
  }

  function countControl(block) { return block.querySelector("select[name$='-attendees']"); }

  function count(block) {
    var control = countControl(block);
    var n = control ? parseInt(control.value, 10) : 1;
    return isNaN(n) || n < 1 ? 1 : n;
  }

  /* --- the attendee forms shown ------------------------------------------------------------- */
  function showAttendees(block) {
    var n = count(block);
    attendees(block).forEach(function (fieldset) {
      var index = parseInt(fieldset.dataset.attendee, 10);
      var on = index < n;
      fieldset.hidden = !on;
      fieldset.disabled = !on;
    });
    var shown = block.querySelector("input[name$='-shown']");
    if (shown) { shown.value = String(n); }
    var seats = parseInt(block.dataset.seatsLeft, 10) || 0;
    var choice = block.querySelector(".waitlist-choice");
    if (choice) { choice.hidden = !(seats > 0 && n > seats); }
  }

  /* --- "Myself" takes the buyer's name ------------------------------------------------------ */
  function nameInputs(fieldset) {
    return {
      relationship: fieldset.querySelector("select[name$='-relationship']"),
      first: fieldset.querySelector("input[name$='-first_name']"),
      last: fieldset.querySelector("input[name$='-last_name']"),
    };
  }

  function fill(input, value) {
    /* Fill a name left empty, or one we filled before (never what the patron typed). */
    if (!input) { return; }
    if (input.value === "" || (input.dataset.filledFromBuyer !== undefined && input.value === input.dataset.filledFromBuyer)) {
      input.value = value;
      input.dataset.filledFromBuyer = value;
    }
  }

  function unfill(input) {
    if (input && input.dataset.filledFromBuyer !== undefined && input.value === input.dataset.filledFromBuyer) {
      input.value = "";
    }
    if (input) { delete input.dataset.filledFromBuyer; }
  }

  function applyMyself(fieldset) {
    var inputs = nameInputs(fieldset);
    if (!inputs.relationship) { return; }
    if (inputs.relationship.value === "self") {
      fill(inputs.first, buyerFirst ? buyerFirst.value.trim() : "");
      fill(inputs.last, buyerLast ? buyerLast.value.trim() : "");
    } else {
      unfill(inputs.first);
      unfill(inputs.last);
    }
  }

  function applyMyselfEverywhere() {
    blocks.forEach(function (block) { attendees(block).forEach(applyMyself); });
  }

  /* --- the running total -------------------------------------------------------------------- */
  var totalAmount = document.getElementById("checkout-total-amount");
  var waitlistNote = document.getElementById("checkout-total-waitlist");
  var halfNote = document.getElementById("checkout-total-half");
  var halfCount = document.getElementById("checkout-total-half-count");
  var submit = document.getElementById("checkout-submit");

  function updateTotal() {
    var total = 0, half = 0, waitlist = 0;
    blocks.forEach(function (block) {
      var fee = cents(block.dataset.fee), halfFee = cents(block.dataset.half);
      var seats = Math.max(parseInt(block.dataset.seatsLeft, 10) || 0, 0);
      var n = count(block);
      attendees(block).forEach(function (fieldset) {
        var index = parseInt(fieldset.dataset.attendee, 10);
        if (index >= n) { return; }
        if (index >= seats) { waitlist += 1; return; }
        var box = fieldset.querySelector("input[type=checkbox][name$='-scholarship']");
        if (box && box.checked) { total += halfFee; half += 1; } else { total += fee; }
      });
    });
    if (totalAmount) { totalAmount.textContent = money(total); }
    if (waitlistNote) { waitlistNote.hidden = waitlist === 0; }
    if (halfNote) { halfNote.hidden = half === 0; }
    if (halfCount) { halfCount.textContent = half + (half === 1 ? " seat" : " seats"); }
    if (submit) { submit.textContent = total > 0 ? "Continue to payment" : "Register"; }
  }

  /* --- wiring ------------------------------------------------------------------------------- */
  blocks.forEach(function (block) {
    Array.prototype.forEach.call(block.querySelectorAll(".count-update"), function (element) {
      element.hidden = true;  /* the count applies itself: no "Update" button */
    });
    var control = countControl(block);
    if (control) {
      control.addEventListener("change", function () {
        showAttendees(block);
        applyMyselfEverywhere();
        updateTotal();
        control.focus();  /* the patron stays where they were */
      });
    }
    showAttendees(block);
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.name) { return; }
    if (/-relationship$/.test(target.name)) {
      var fieldset = target.closest("fieldset.attendee");
      if (fieldset) { applyMyself(fieldset); }
    }
    if (/-scholarship$/.test(target.name)) { updateTotal(); }
  });

  form.addEventListener("input", function (event) {
    /* A name the patron typed is theirs: never replaced or cleared by "Myself" again. */
    var target = event.target;
    if (target && /-attendee\d+-(first|last)_name$/.test(target.name || "")) {
      delete target.dataset.filledFromBuyer;
    }
  });

  [buyerFirst, buyerLast].forEach(function (input) {
    if (input) { input.addEventListener("input", applyMyselfEverywhere); }
  });

  applyMyselfEverywhere();
  updateTotal();
})();
