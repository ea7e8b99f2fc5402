// Checkout enhancements; every step works without this file.
(function () {
  "use strict";
  // One click, one submission: the server is idempotent anyway, this just avoids a second wait.
  document.querySelectorAll("[data-place-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-place-order]");
      if (button) button.disabled = true;
    });
  });
  // The new-address fields matter only when "a new address" is chosen.
  var fields = document.querySelector("[data-address-fields]");
  var radios = document.querySelectorAll("input[name=address_id]");
  if (fields && radios.length) {
    var sync = function () {
      var chosen = document.querySelector("input[name=address_id]:checked");
      fields.hidden = Boolean(chosen && chosen.value);
    };
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }
})();
