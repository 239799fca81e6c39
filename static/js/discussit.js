// DiscussIt's own few lines. Fragments are rendered once for everyone; this personalises them
// (marks my messages, shows local times), keeps the newest message in view, and empties the
// message box once htmx has sent it over the socket.
(function () {
  "use strict";

  function decorate(root) {
    var me = document.body.dataset.viewerId;
    root.querySelectorAll(".message[data-author-id]").forEach(function (el) {
      el.classList.toggle("message--mine", el.dataset.authorId === me);
    });
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      el.title = when.toLocaleString();
      el.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      el.dataset.local = "1";
    });
  }

  function start() {
    decorate(document);
    var timeline = document.getElementById("timeline");
    if (timeline) {
      var atBottom = true;
      timeline.scrollTop = timeline.scrollHeight;
      timeline.addEventListener("scroll", function () {
        atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 60;
      });
      new MutationObserver(function () {
        decorate(timeline);
        if (atBottom) timeline.scrollTop = timeline.scrollHeight;
      }).observe(timeline, { childList: true });
    }
    document.addEventListener("htmx:ws:after:message:outgoing", function (event) {
      var form = event.target;
      if (form.id !== "composer") return;
      form.querySelector("[name=text]").value = "";
      var id = form.querySelector("[name=client_message_id]");
      if (id && window.crypto && crypto.randomUUID) id.value = crypto.randomUUID();
      var error = form.querySelector(".composer__error");
      if (error) error.textContent = "";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
