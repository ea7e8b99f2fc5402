// Search box autocomplete. Progressive enhancement: without this file the box is a plain GET
// form to /search/. With it, typing shows product and category suggestions (ARIA combobox:
// arrow keys move, Enter opens the highlighted suggestion, Escape closes).
(function () {
  "use strict";
  var input = document.getElementById("site-search");
  if (!input || !window.fetch) return;
  var url = input.dataset.suggestUrl;
  var list = document.createElement("ul");
  list.id = "site-search-suggestions";
  list.className = "search-suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.parentNode.appendChild(list);

  var timer = null;
  var controller = null;
  var active = -1;

  function close() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function render(suggestions) {
    list.textContent = "";
    active = -1;
    suggestions.forEach(function (s, i) {
      var item = document.createElement("li");
      item.id = "site-search-option-" + i;
      item.setAttribute("role", "option");
      var link = document.createElement("a");
      link.href = s.url;
      link.textContent = s.label; // textContent: suggestions are never parsed as HTML
      if (s.kind === "category") {
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = " in categories";
        link.appendChild(kind);
      }
      item.appendChild(link);
      list.appendChild(item);
    });
    list.hidden = suggestions.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
  }

  function highlight(index) {
    var items = list.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) {
      item.setAttribute("aria-selected", String(i === active));
    });
    input.setAttribute("aria-activedescendant", items[active].id);
  }

  function fetchSuggestions() {
    var prefix = input.value.trim();
    if (prefix.length < 2) return close();
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(prefix), {
      headers: { Accept: "application/json" },
      signal: controller.signal,
    })
      .then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      })
      .then(function (body) {
        render(body.suggestions || []);
      })
      .catch(function () {
        /* aborted or offline: the plain search still works */
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 120);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active - 1);
    } else if (event.key === "Escape") {
      close();
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      window.location.href = list.querySelectorAll("[role=option] a")[active].href;
    }
  });
  input.addEventListener("blur", function () {
    setTimeout(close, 150); // let a click on a suggestion land first
  });
})();
