// Cart page enhancement: forms post in the background and the cart body is re-rendered by the
// server (prices are never computed here). Without JavaScript the same forms post normally.
(function () {
  "use strict";
  var body = document.querySelector("[data-cart-body]");
  if (!body || !window.fetch) return;

  function submit(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    body.setAttribute("aria-busy", "true");
    // getAttribute: the buttons are named "action", which shadows form.action in the DOM
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) { body.innerHTML = html; })
      .catch(function () { HTMLFormElement.prototype.submit.call(form); })
      .finally(function () { body.removeAttribute("aria-busy"); });
  }

  body.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-cart-form]");
    if (!form) return;
    event.preventDefault();
    submit(form, event.submitter);
  });

  // Quantity changes apply on their own once the shopper stops typing.
  var timer = null;
  body.addEventListener("input", function (event) {
    if (!event.target.matches("[data-qty]")) return;
    var form = event.target.form;
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (event.target.value !== "") submit(form, form.querySelector("[data-update-button]"));
    }, 500);
  });
})();
