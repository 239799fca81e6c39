// DiscussIt's own few lines. Fragments are rendered once for everyone; this personalises them
// (marks my messages, shows local times), keeps the newest message in view, moves the page's
// resume cursor along as entries arrive, sends the message box on Enter (Shift+Enter: a new
// line), and empties it once htmx has sent it over the socket.
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

  var sent = 0; // sends from this page so far

  function start() {
    decorate(document);
    var timeline = document.getElementById("timeline");
    if (timeline) {
      var atBottom = true;
      timeline.scrollTop = timeline.scrollHeight;
      timeline.addEventListener("scroll", function () {
        atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 60;
      });
      // The resume form sends #last-seq on every (re)connect: the newest entry this page shows
      // (each carries its data-seq), so a reconnect asks only for what came after it.
      var cursor = document.getElementById("last-seq");
      var advance = function (node) {
        var seq = node.nodeType === 1 ? Number(node.getAttribute("data-seq")) : 0;
        if (cursor && seq > Number(cursor.value)) cursor.value = String(seq);
      };
      new MutationObserver(function (records) {
        records.forEach(function (record) {
          record.addedNodes.forEach(advance);
        });
        decorate(timeline);
        if (atBottom) timeline.scrollTop = timeline.scrollHeight;
      }).observe(timeline, { childList: true });
    }
    // In the message box Enter sends and Shift+Enter starts a new line (not while an input
    // method is composing a character). Without JavaScript the box is a plain textarea: Enter
    // starts a new line and the Send button sends.
    document.addEventListener("keydown", function (event) {
      var box = event.target;
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      if (!box || box.id !== "composer-text") return;
      event.preventDefault();
      box.form.requestSubmit();
    });
    document.addEventListener("htmx:ws:after:message:outgoing", function (event) {
      var form = event.target;
      if (form.id !== "composer") return;
      form.querySelector("[name=text]").value = "";
      // The next send gets the next id: the page's own id plus a count. No secure-context-only
      // API (crypto.randomUUID is missing on plain HTTP away from localhost), so every send is
      // stored once, whatever the context.
      var id = form.querySelector("[name=client_message_id]");
      if (id && id.dataset.base) {
        sent += 1;
        id.value = id.dataset.base + "-" + sent;
      }
      form.querySelectorAll(".composer__error, .composer__status").forEach(function (el) {
        el.textContent = "";
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
