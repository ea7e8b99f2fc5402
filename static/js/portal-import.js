// Polls the import's progress endpoint and moves the <progress> bar; reloads the page when the
// import has finished. Without JavaScript the page refreshes itself (meta refresh in <noscript>).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("import-bar");
  var count = document.getElementById("import-count");
  var status = document.getElementById("import-status");

  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (job) {
        bar.max = Math.max(job.total_rows, 1);
        bar.value = job.processed_rows;
        bar.textContent = job.percent + "%";
        count.textContent = job.processed_rows + " of " + job.total_rows + " rows";
        status.textContent = job.status_display;
        if (job.finished) { window.location.assign(job.url); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
