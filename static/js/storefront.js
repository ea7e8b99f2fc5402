// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Product page: choosing a variant updates the displayed price and the selected variant
  // of any form on the page (the add-to-cart form reads `data-selected-variant` inputs).
  document.querySelectorAll("[data-variant-form]").forEach(function (form) {
    var priceBox = document.getElementById("product-price");
    form.addEventListener("change", function (event) {
      var radio = event.target;
      if (radio.name !== "variant") return;
      if (priceBox) {
        var now = priceBox.querySelector("[data-price-now]");
        var was = priceBox.querySelector("[data-price-was]");
        now.textContent = radio.dataset.price;
        now.classList.toggle("on-sale", Boolean(radio.dataset.was));
        if (was) {
          was.textContent = radio.dataset.was || "";
          was.hidden = !radio.dataset.was;
        }
      }
      document.querySelectorAll("input[data-selected-variant]").forEach(function (input) {
        input.value = radio.value;
      });
      var url = new URL(window.location.href);
      url.searchParams.set("variant", radio.value);
      window.history.replaceState(null, "", url);
    });
  });

  // On small screens the filter panel starts folded (unless filters are in use), so results
  // come first; without JavaScript it stays open.
  var narrow = window.matchMedia("(max-width: 759px)").matches;
  var params = new URLSearchParams(window.location.search);
  params.delete("sort");
  params.delete("page");
  if (narrow && !params.toString()) {
    document.querySelectorAll("details[data-filters-panel]").forEach(function (panel) {
      panel.open = false;
    });
  }

  // Sort menus submit on change; the button stays for people without JavaScript.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    var button = form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
    form.addEventListener("change", function () { form.submit(); });
  });
})();
