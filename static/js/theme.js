// The reader's choice of light or dark (static/css/theme.css), remembered in this browser.
// Loaded in <head> without defer, so the page is drawn in the chosen mode from the start.
// Without JavaScript (or a choice) the page follows the system's prefers-color-scheme.
(function () {
  "use strict";
  var KEY = "discussit-theme";
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem(KEY); } catch (e) { /* storage off: follow the system */ }
  if (saved === "dark" || saved === "light") root.dataset.theme = saved;

  function dark() {
    if (root.dataset.theme) return root.dataset.theme === "dark";
    return window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.hidden = false;
    button.setAttribute("aria-pressed", String(dark()));
    button.addEventListener("click", function () {
      var next = dark() ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem(KEY, next); } catch (e) { /* this page only */ }
      button.setAttribute("aria-pressed", String(next === "dark"));
    });
  });
})();
