// One click, one submission: the server is idempotent anyway, this just avoids a second wait.
document.querySelectorAll("[data-place-form]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelector("[data-place-order]").disabled = true;
  });
});
