// Stripe's Payment Element on the review page, and the bank's check (3-D Secure) after it.
// Card data stays in Stripe's iframes: this only posts the PaymentMethod id Stripe returns.
(function () {
  "use strict";
  if (typeof Stripe === "undefined") return;

  function showError(box, message) {
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  var form = document.querySelector("[data-stripe-payment]");
  if (form) {
    var stripe = Stripe(form.dataset.stripeKey);
    var elements = stripe.elements({
      mode: "payment",
      amount: Number(form.dataset.amount),
      currency: form.dataset.currency,
      paymentMethodCreation: "manual",
    });
    elements.create("payment").mount(form.querySelector("[data-payment-element]"));
    var errorBox = form.querySelector("[data-payment-error]");
    var submitting = false;
    form.addEventListener("submit", function (event) {
      var token = form.querySelector("input[name=payment_token]");
      if (token.value) return; // the method is ready: let the form post it
      event.preventDefault();
      if (submitting) return;
      submitting = true;
      elements.submit().then(function (result) {
        if (result.error) throw result.error;
        return stripe.createPaymentMethod({ elements: elements });
      }).then(function (result) {
        if (result.error) throw result.error;
        token.value = result.paymentMethod.id;
        form.submit();
      }).catch(function (error) {
        submitting = false;
        var button = form.querySelector("[data-place-order]");
        if (button) button.disabled = false;
        showError(errorBox, error.message || "The payment could not be prepared.");
      });
    });
  }

  var check = document.querySelector("[data-stripe-authenticate]");
  if (check) {
    Stripe(check.dataset.stripeKey)
      .handleNextAction({ clientSecret: check.dataset.clientSecret })
      .then(function () { window.location.assign(check.dataset.returnUrl); });
  }
})();
