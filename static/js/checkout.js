/* Library Classes — the card payment pages (templates/finance/pay.html, and donate_pay.html for a
 * gift to Pass the Buck).
 *
 * Real Stripe: Stripe.js confirms the PaymentIntent with the Card Element (and runs 3-D Secure
 * itself), then we go to the return page, where the server asks Stripe what happened.
 * localstripe (demo, tests): its fake Stripe.js can only tokenize the card and run the 3-D Secure
 * step, so we tokenize, ask our server to confirm with that card, run 3-D Secure when the bank
 * wants it, then go to the same return page. The server is the authority on everything; this
 * script only moves the patron along and shows the time left on the hold.
 */
(function () {
  "use strict";

  var form = document.getElementById("checkout");
  if (!form || typeof window.Stripe !== "function") { return; }

  var data = form.dataset;
  var errors = document.getElementById("card-errors");
  var button = form.querySelector("button[type=submit]");
  var stripe = window.Stripe(data.publishableKey);
  var card = null;
  var returnUrl = data.returnUrl + (data.returnUrl.indexOf("?") < 0 ? "?" : "&") +
    "payment_intent=" + encodeURIComponent(data.paymentIntent);

  function showError(text) {
    errors.textContent = "";
    if (!text) { return; }
    var box = document.createElement("div");
    box.className = "alert alert-danger mb-0";
    box.textContent = text;
    errors.appendChild(box);
  }

  function busy(on) {
    button.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function goReturn() { window.location.assign(returnUrl); }

  /* --- the hold's countdown (the server decides; this is a courtesy) --------------------------- */
  /* Only where there is a hold: a gift to Pass the Buck (donate_pay.html) has no data-seconds-left. */
  var countdown = document.getElementById("hold-countdown");
  var announce = document.getElementById("hold-announce");
  var deadline = Date.now() + (parseInt(data.secondsLeft, 10) || 0) * 1000;
  var warned = false;
  var timer = null;
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var minutes = Math.floor(left / 60), seconds = left % 60;
    if (countdown) {
      countdown.textContent = " (" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left)";
    }
    if (left <= 120 && !warned && announce) {
      warned = true;
      announce.textContent = "Two minutes or less left on your hold.";
    }
    if (left === 0) {
      window.clearInterval(timer);
      if (!button.disabled) { window.location.assign(data.payUrl); }
    }
  }
  if (data.secondsLeft !== undefined) {
    timer = window.setInterval(tick, 1000);
    tick();
  }

  /* --- the card field -------------------------------------------------------------------------- */
  if (data.requiresAction !== "1") {
    card = stripe.elements().create("card", { hidePostalCode: false });
    card.mount("#card-element");
    card.on("change", function (event) {
      if (event && event.error) { showError(event.error.message); } else if (event) { showError(""); }
    });
  }

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function authenticate() {
    /* The bank's 3-D Secure step for an intent that requires_action (both Stripe.js's). */
    await stripe.confirmCardPayment(data.clientSecret);
    goReturn();
  }

  async function payLocal() {
    var tokenResult = await stripe.createToken(card);
    if (tokenResult.error || !tokenResult.token) {
      showError((tokenResult.error && tokenResult.error.message) || "Please check your card details.");
      return false;
    }
    var body = new URLSearchParams();
    body.set("payment_intent", data.paymentIntent);
    body.set("payment_method", tokenResult.token.card.id);
    var response = await fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    });
    var answer = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      showError(answer.error || "We could not reach the payment service; you have not been charged, please try again.");
      return false;
    }
    if (answer.status === "requires_action") {
      await stripe.confirmCardPayment(data.clientSecret);
    }
    window.location.assign(answer.return_url || returnUrl);
    return true;
  }

  async function payStripe() {
    var result = await stripe.confirmCardPayment(data.clientSecret, { payment_method: { card: card } });
    if (result.error && result.error.type === "validation_error") {
      showError(result.error.message);
      return false;
    }
    goReturn();  /* paid, declined or failed: the server reads the intent and says which */
    return true;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    showError("");
    busy(true);
    try {
      var leaving;
      if (data.requiresAction === "1") {
        await authenticate();
        leaving = true;
      } else {
        leaving = data.local === "1" ? await payLocal() : await payStripe();
      }
      if (!leaving) { busy(false); }
    } catch (err) {
      showError("We could not reach the payment service; you have not been charged, please try again.");
      busy(false);
    }
  });
})();
