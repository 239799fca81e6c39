// On a phone-sized screen the group page's panel of groups and members folds behind a button
// (static/css/base.css hides the panel then, while <body> has "folds"). Without JavaScript the
// button stays hidden and the panel stays open below the history.
(function () {
  "use strict";
  function start() {
    var button = document.getElementById("chat-fold");
    var panel = document.getElementById("chat-members");
    if (!button || !panel) return;
    document.body.classList.add("folds");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = panel.classList.toggle("chat__members--open");
      button.setAttribute("aria-expanded", String(open));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
