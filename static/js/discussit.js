// DiscussIt's own few lines. Fragments are rendered once for everyone; this personalises them
// (marks my messages and my reactions, shows local times, groups a person's consecutive
// messages and marks each new day), keeps the newest message in view, moves the page's resume
// cursor along as entries arrive, sends the message box on Enter (Shift+Enter: a new line),
// empties it once htmx has sent it over the socket, and gives each message its toolbar (react,
// reply, edit, delete, copy link) from the page's one #message-tools template. Without
// JavaScript every action is a plain page: a message's time links to it.
(function () {
  "use strict";

  var GROUP_WITHIN_MS = 5 * 60 * 1000; // limits.GROUP_WITHIN_SECONDS

  function me() {
    return document.body.dataset.viewerId;
  }

  function seqOf(li) {
    return li ? Number(li.getAttribute("data-seq")) : 0;
  }

  // Times in the reader's time zone: the hour in a group's history (its days are marked),
  // the day and the hour where times from any day sit together (data-when="day": results).
  function localise(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      el.title = when.toLocaleString();
      el.textContent =
        el.dataset.when === "day"
          ? when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" })
          : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      el.dataset.local = "1";
    });
  }

  // A person's messages within a few minutes of each other show under one name; the first
  // line of each day (in the reader's time zone) carries that day (base.css shows it).
  function arrange(timeline) {
    var previous = null;
    var lastDay = null;
    for (var el = timeline.firstElementChild; el; el = el.nextElementSibling) {
      if (!el.hasAttribute("data-seq")) continue;
      var time = el.querySelector("time[datetime]");
      var when = time ? new Date(time.getAttribute("datetime")) : null;
      var day = when ? when.toDateString() : lastDay;
      var newDay = day !== lastDay && lastDay !== null;
      el.classList.toggle("timeline__new-day", newDay);
      if (newDay) el.dataset.day = when.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
      var continued =
        !newDay && previous && el.classList.contains("message") &&
        previous.classList.contains("message") &&
        previous.dataset.authorId === el.dataset.authorId &&
        when - previous.when < GROUP_WITHIN_MS;
      el.classList.toggle("message--continued", Boolean(continued));
      previous = el;
      previous.when = when;
      lastDay = day;
    }
  }

  function decorate(root) {
    var mine = " " + me() + " ";
    // Mentions of me (each names its member's id: the same HTML for everyone).
    root.querySelectorAll('.mention[data-user-id="' + me() + '"]').forEach(function (el) {
      el.classList.add("mention--me");
      var li = el.closest(".message");
      if (li) li.classList.add("message--mentions-me");
    });
    root.querySelectorAll(".message[data-author-id]").forEach(function (el) {
      el.classList.toggle("message--mine", el.dataset.authorId === me());
    });
    root.querySelectorAll(".reaction[data-users]").forEach(function (el) {
      el.setAttribute("aria-pressed", String(el.dataset.users.indexOf(mine) !== -1));
    });
    localise(root);
  }

  // ---- the toolbar -------------------------------------------------------------------------

  function toolsFor(li) {
    var template = document.getElementById("message-tools");
    if (!template || !li || li.classList.contains("message--deleted")) return null;
    var tools = li.querySelector(".message-tools");
    if (tools) return tools;
    document.querySelectorAll("#timeline .message-tools").forEach(function (old) {
      if (!old.contains(document.activeElement)) old.remove();
    });
    var seq = seqOf(li);
    var base = template.dataset.base + seq + "/";
    var mine = li.dataset.authorId === me();
    var staff = document.body.dataset.viewerStaff === "1";
    tools = template.content.firstElementChild.cloneNode(true);
    tools.querySelectorAll("[data-mine-only]").forEach(function (el) {
      if (!mine && !(staff && el.hasAttribute("data-staff-too"))) el.remove();
    });
    if (!document.getElementById("composer-reply-to")) {
      tools.querySelector(".message-tools__reply").remove(); // an older page: no composer here
    }
    tools.querySelectorAll("form[data-action]").forEach(function (form) {
      form.setAttribute("hx-post", base + form.dataset.action);
    });
    tools.querySelector(".message-tools__link").dataset.href = new URL(template.dataset.base + seq, location.href).href;
    li.appendChild(tools);
    if (window.htmx) window.htmx.process(tools);
    return tools;
  }

  // Whether my reaction with `emoji` is on this message now (its reaction lists my id).
  function reacted(li, emoji) {
    var chip = li.querySelector('.reaction[data-emoji="' + emoji + '"]');
    return Boolean(chip && chip.dataset.users.indexOf(" " + me() + " ") !== -1);
  }

  function react(li, emoji) {
    var tools = toolsFor(li);
    if (!tools) return;
    tools.querySelector("input[name=on]").value = reacted(li, emoji) ? "off" : "on";
    var pick = tools.querySelector('button[name=emoji][value="' + emoji + '"]');
    refocus = { seq: seqOf(li), emoji: emoji };
    tools.querySelector(".message-tools__react").requestSubmit(pick);
  }

  // A change replaces its message (and the toolbar in it): focus goes back where it was.
  var refocus = null;

  function restoreFocus(timeline) {
    if (!refocus || (document.activeElement && document.activeElement !== document.body)) return;
    var li = document.getElementById("entry-" + refocus.seq);
    var tools = li && li.parentNode === timeline ? toolsFor(li) : null;
    var button = tools && tools.querySelector('button[name=emoji][value="' + refocus.emoji + '"]');
    if (button) button.focus();
    refocus = null;
  }

  function edit(li) {
    if (!li || !window.htmx) return;
    var open = document.getElementById("editor-" + seqOf(li));
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    var template = document.getElementById("message-tools");
    window.htmx.ajax("GET", template.dataset.base + seqOf(li) + "/edit", {
      target: li,
      swap: "afterend",
    });
  }

  function closeEditor(editor) {
    var seq = editor.dataset.seqEdited;
    editor.remove();
    var li = document.getElementById("entry-" + seq);
    var link = li && li.querySelector(".message__time");
    if (link) link.focus();
  }

  function reply(li) {
    var to = document.getElementById("composer-reply-to");
    var box = document.getElementById("composer-text");
    if (!to || !box) return;
    var author = li.querySelector(".message__author").textContent;
    var body = li.querySelector(".message__body").textContent.trim().split("\n")[0];
    to.value = String(seqOf(li));
    var chip = document.getElementById("composer-reply");
    var text = chip.querySelector(".composer__reply-text");
    text.textContent = "Replying to ";
    var strong = document.createElement("strong");
    strong.textContent = author;
    text.appendChild(strong);
    text.appendChild(document.createTextNode(" " + body.slice(0, 100)));
    chip.hidden = false;
    box.focus();
  }

  function clearReply() {
    var to = document.getElementById("composer-reply-to");
    var chip = document.getElementById("composer-reply");
    if (to) to.value = "";
    if (chip) chip.hidden = true;
  }

  function say(text) {
    var status = document.getElementById("composer-status") || document.getElementById("notice");
    if (status) status.textContent = text;
  }

  function copyLink(link) {
    var url = link.dataset.href;
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(url).then(function () { say("Link copied."); });
    }
    // Plain HTTP on a LAN has no Clipboard API: copy from a selected field instead.
    var field = document.createElement("textarea");
    field.value = url;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.appendChild(field);
    field.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    field.remove();
    say(done ? "Link copied." : "Copy this link: " + url);
    link.focus();
  }

  // Who came online or went offline (members/_presence_changes.html): mark each listed member's
  // status as members/_presence.html does, with the words #presence-changes holds.
  function markPresence(ids, online, words) {
    (ids || "").split(" ").forEach(function (id) {
      var status = id && document.getElementById("presence-" + id);
      if (!status) return;
      status.classList.toggle("presence--online", online);
      status.textContent = words;
    });
  }

  // System notifications, once "Turn on notifications" was clicked and the browser allowed
  // them (never asked otherwise): only while this page is hidden; clicking one shows the group.
  function mayNotify() {
    return document.hidden && "Notification" in window && Notification.permission === "granted";
  }

  function notify(title, body, tag, href) {
    var note;
    try {
      note = new Notification(title, { body: body, tag: tag });
    } catch (error) {
      return; // (a browser that notifies only through a service worker: none then)
    }
    note.onclick = function () {
      window.focus();
      if (href) location.href = href;
      note.close();
    };
  }

  function showEnable() {
    var button = document.querySelector(".notify__enable");
    if (button) {
      button.hidden = !window.isSecureContext || !("Notification" in window) ||
        Notification.permission !== "default";
    }
  }

  // My level for a group (groups/_level.html) in its row or list item: sent to all my pages
  // again when I choose another one, on this page or elsewhere.
  function levelIn(item) {
    var held = item && item.querySelector(".notify-level");
    return held ? held.dataset.level : "mentions";
  }

  // This group's level chosen elsewhere: the form here shows it too (unless being used).
  function showLevel() {
    var select = document.getElementById("notify-level");
    var level = levelIn(document.querySelector(".my-groups__item--current"));
    if (select && select.value !== level && document.activeElement !== select) {
      select.value = level;
    }
  }

  // A new message on this page, by someone else: notified at "all", or at "mentions" when it
  // mentions me (the level of this group: its item in my list of groups).
  var newestSeen = 0; // a change replaces an older message: only newer ones are new
  function notifyMessage(li) {
    var seq = Number(li.dataset.seq);
    if (!(seq > newestSeen)) return;
    newestSeen = seq;
    if (!mayNotify() || !document.getElementById("notify") || li.dataset.authorId === me()) return;
    var level = levelIn(document.querySelector(".my-groups__item--current"));
    var mentionsMe = li.querySelector('.mention[data-user-id="' + me() + '"]');
    if (level !== "all" && !(level === "mentions" && mentionsMe)) return;
    var author = li.querySelector(".message__author");
    var body = li.querySelector(".message__body");
    var chat = document.getElementById("chat");
    notify(
      (author ? author.textContent : "") + " in " + (chat ? chat.dataset.groupName : ""),
      body ? body.textContent.slice(0, 140) : "",
      li.id
    );
  }

  // Unread counts (groups/_unread.html: the home page's rows, the group page's list of my
  // groups), each in a row whose first link is its group and which holds my level there
  // (levelIn). When one rises: a new mention of me is notified unless the group's level is
  // "nothing", any new message at "all" (tagged by group and count: the home page and another
  // tab's list notify it once); and screen readers are told in #attention, sparingly: the
  // groups that rose, a second after the first rise, then at most once every ANNOUNCE_EVERY ms.
  var ANNOUNCE_EVERY = 20000;
  var counted = {}; // badge id -> { count, mentions }
  var risen = {}; // badge id -> true: to announce
  var announcing = null;
  var announcedAt = -Infinity;
  function countsChanged() {
    document.querySelectorAll(".my-groups .unread, #directory .unread").forEach(function (badge) {
      var now = { count: Number(badge.dataset.count), mentions: Number(badge.dataset.mentions) };
      var before = counted[badge.id];
      counted[badge.id] = now;
      if (!before || now.count <= before.count) return;
      risen[badge.id] = true;
      var item = badge.closest(".my-groups__item, .group--member");
      var link = item && item.querySelector("a");
      if (!link || !mayNotify()) return;
      var level = levelIn(item);
      if (now.mentions > before.mentions && level !== "nothing") {
        notify("You were mentioned in " + link.textContent, "", badge.id + "-" + now.count, link.href);
      } else if (level === "all") {
        notify("New messages in " + link.textContent, "", badge.id + "-" + now.count, link.href);
      }
    });
    if (announcing || !Object.keys(risen).length) return;
    var wait = Math.max(1000, announcedAt + ANNOUNCE_EVERY - Date.now());
    announcing = setTimeout(announceCounts, wait);
  }
  function announceCounts() {
    announcing = null;
    var region = document.getElementById("attention");
    var words = [];
    Object.keys(risen).forEach(function (id) {
      var badge = document.getElementById(id);
      var row = badge && badge.closest("li");
      var link = row && row.querySelector("a");
      var count = badge ? Number(badge.dataset.count) : 0;
      if (!link || !count) return;
      var mentions = Number(badge.dataset.mentions);
      words.push(link.textContent + ": " + count + " unread" + (mentions ? ", " + mentions + " mentioning you." : "."));
    });
    risen = {};
    if (!region || !words.length) return;
    announcedAt = Date.now();
    region.textContent = words.join(" ");
  }

  function start() {
    decorate(document);
    showEnable();
    document.querySelectorAll("#timeline > .message").forEach(function (li) {
      newestSeen = Math.max(newestSeen, Number(li.dataset.seq) || 0);
    });
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest(".notify__enable")) {
        var asked = Notification.requestPermission(showEnable); // (older browsers: a callback)
        if (asked && asked.then) asked.then(showEnable);
      }
    });
    document.addEventListener("htmx:after:settle", showEnable);
    // (Only where counts are: the group page's list of my groups, the home page's directory;
    // a new message in the timeline is none of theirs.)
    countsChanged();
    document.querySelectorAll(".my-groups, #directory").forEach(function (where) {
      new MutationObserver(function () {
        countsChanged();
        showLevel();
      }).observe(where, {
        childList: true,
        subtree: true,
        attributes: true,
        attributeFilter: ["data-count"],
      });
    });
    var changes = document.getElementById("presence-changes");
    if (changes) {
      new MutationObserver(function () {
        var change;
        while ((change = changes.firstElementChild)) {
          markPresence(change.dataset.online, true, changes.dataset.online);
          markPresence(change.dataset.offline, false, changes.dataset.offline);
          change.remove();
        }
      }).observe(changes, { childList: true });
    }
    // Typing: while keys are pressed in the message box, the others are told at most every
    // 3 s (the typing form, over the socket). Who else is typing shows under it (#typing), each
    // name until 5 s after its last signal, or until their message arrives.
    var typingForm = document.getElementById("typing-form");
    var typedAt = 0;
    var typers = {}; // user id -> { name, until }
    var showTyping = function () {
      var box = document.getElementById("typing"); // (the composer may have been replaced)
      if (!box) return;
      var now = Date.now();
      var names = [];
      Object.keys(typers).forEach(function (id) {
        if (typers[id].until <= now) delete typers[id];
        else names.push(typers[id].name);
      });
      var text = "";
      if (names.length === 1) text = box.dataset.one.replace("{name}", names[0]);
      else if (names.length === 2) {
        text = box.dataset.two.replace("{first}", names[0]).replace("{second}", names[1]);
      } else if (names.length > 2) text = box.dataset.many;
      if (box.textContent !== text) box.textContent = text;
    };
    if (typingForm) {
      document.addEventListener("input", function (event) {
        if (event.target.id !== "composer-text" || !event.target.value || !window.htmx) return;
        if (Date.now() - typedAt < 3000) return;
        var form = document.getElementById("composer");
        if (form && form.classList.contains("composer--offline")) return; // (stale once back)
        typedAt = Date.now();
        window.htmx.trigger(typingForm, "discussit:typing");
      });
      var signals = document.getElementById("typing-signals");
      new MutationObserver(function () {
        var signal;
        while ((signal = signals.firstElementChild)) {
          signal.querySelectorAll("[data-user-id]").forEach(function (who) {
            if (who.dataset.userId !== me()) {
              typers[who.dataset.userId] = { name: who.textContent, until: Date.now() + 5000 };
            }
          });
          signal.remove();
        }
        showTyping();
      }).observe(signals, { childList: true });
      setInterval(function () {
        if (Object.keys(typers).length) showTyping();
      }, 1000);
    }
    var timeline = document.getElementById("timeline");
    if (timeline) {
      arrange(timeline);
      var atBottom = true;
      var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
      var linked = timeline.querySelector(".message--target");
      if (target || linked) {
        atBottom = false;
        (target || linked).scrollIntoView({ block: "center" });
      } else {
        timeline.scrollTop = timeline.scrollHeight;
      }
      // New messages while I am scrolled up: a button to jump to the newest.
      var jump = document.getElementById("jump-newest");
      timeline.addEventListener("scroll", function () {
        atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 60;
        if (atBottom && jump) jump.hidden = true;
      });
      if (jump) {
        jump.addEventListener("click", function () {
          timeline.scrollTop = timeline.scrollHeight;
          jump.hidden = true;
          var box = document.getElementById("composer-text");
          if (box) box.focus();
        });
      }
      // The resume form sends #last-seq on every (re)connect: the newest entry this page shows
      // (each line carries its data-seq; a change sets #last-seq itself), so a reconnect asks
      // only for what came after it. Looked up each time: a change replaces the element.
      var advance = function (node) {
        var cursor = document.getElementById("last-seq");
        var seq = node.nodeType === 1 ? Number(node.getAttribute("data-seq")) : 0;
        if (cursor && seq > Number(cursor.value)) cursor.value = String(seq);
      };
      // While this page is shown, what the server sends it is read: the page says whether it
      // is shown in its resume form (every (re)connect) and in the visibility form whenever
      // that changes. No report per message: the server knows what it sent.
      var showing = function () {
        var value = document.hidden ? "0" : "1";
        document.querySelectorAll("#resume [name=visible], #visibility [name=visible]").forEach(function (field) {
          field.value = value;
        });
      };
      showing();
      document.addEventListener("visibilitychange", function () {
        showing();
        var form = document.getElementById("visibility");
        if (form && window.htmx) window.htmx.trigger(form, "discussit:visibility");
      });
      new MutationObserver(function (records) {
        records.forEach(function (record) {
          record.addedNodes.forEach(advance);
          record.addedNodes.forEach(function (node) {
            if (node.nodeType === 1 && node.classList.contains("message")) {
              if (!atBottom && jump && Number(node.dataset.seq) > newestSeen) jump.hidden = false;
              notifyMessage(node);
            }
            var author = node.nodeType === 1 && node.getAttribute("data-author-id");
            if (author && typers[author]) {
              delete typers[author]; // their message is here: they stopped typing it
              showTyping();
            }
          });
        });
        decorate(timeline);
        arrange(timeline);
        restoreFocus(timeline);
        quietAfterBurst(timeline);
        if (atBottom) timeline.scrollTop = timeline.scrollHeight;
      }).observe(timeline, { childList: true });
      timeline.addEventListener("mouseover", function (event) {
        toolsFor(event.target.closest && event.target.closest("#timeline > .message"));
      });
      timeline.addEventListener("focusin", function (event) {
        toolsFor(event.target.closest && event.target.closest("#timeline > .message"));
      });
      timeline.addEventListener("click", function (event) {
        var li = event.target.closest("#timeline > .message");
        if (!li) return;
        var chip = event.target.closest(".reaction[data-emoji]");
        var pick = event.target.closest(".message-tools button[name=emoji]");
        if (chip || pick) {
          event.preventDefault();
          react(li, (chip || pick).dataset.emoji || pick.value);
        } else if (event.target.closest(".message-tools__edit")) {
          edit(li);
        } else if (event.target.closest(".message-tools__reply")) {
          reply(li);
        } else if (event.target.closest(".message-tools__link")) {
          event.preventDefault();
          copyLink(event.target.closest(".message-tools__link"));
        }
      });
    }
    document.addEventListener("click", function (event) {
      var cancel = event.target.closest && event.target.closest(".message-editor__cancel");
      if (cancel) {
        event.preventDefault();
        closeEditor(cancel.closest(".message-editor"));
        return;
      }
      if (event.target.closest && event.target.closest(".composer__reply-cancel")) {
        event.preventDefault();
        clearReply();
        document.getElementById("composer-text").focus();
      }
    });
    // Mentions: "@" and a name's first letters before the caret ask the server for the members
    // whose names start so (the listbox under #mention-list, htmx). Up and Down move the active
    // option (the message box keeps the focus and points at it), Enter or Tab puts its name in
    // the text, Escape closes the list. Looked up each time: the composer may be replaced.
    var mentionToken = function (box) {
      var before = box.value.slice(0, box.selectionStart);
      var found = /(^|\s)@([A-Za-z0-9._-]{0,30})$/.exec(before);
      return found ? found[2] : null;
    };
    var mentionOptions = function () {
      var list = document.getElementById("mention-list");
      return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
    };
    var closeMentions = function () {
      var list = document.getElementById("mention-list");
      var box = document.getElementById("composer-text");
      if (list) {
        list.hidden = true;
        list.replaceChildren();
      }
      if (box) box.removeAttribute("aria-activedescendant");
    };
    var activateMention = function (option) {
      var box = document.getElementById("composer-text");
      mentionOptions().forEach(function (el) {
        el.setAttribute("aria-selected", el === option ? "true" : "false");
      });
      if (box && option) box.setAttribute("aria-activedescendant", option.id);
    };
    var chooseMention = function (option) {
      var box = document.getElementById("composer-text");
      var token = box ? mentionToken(box) : null;
      if (token === null || !option) return closeMentions();
      var at = box.selectionStart - token.length;
      var name = option.dataset.username + " ";
      box.value = box.value.slice(0, at) + name + box.value.slice(box.selectionStart);
      box.selectionStart = box.selectionEnd = at + name.length;
      closeMentions();
      box.focus();
    };
    document.addEventListener("input", function (event) {
      var box = event.target;
      if (box.id !== "composer-text" || !window.htmx) return;
      var token = mentionToken(box);
      var list = document.getElementById("mention-list");
      var q = document.getElementById("mention-q");
      if (token === null || !list || !q) return closeMentions();
      q.value = token;
      window.htmx.trigger(list, "mention-query");
    });
    document.addEventListener("htmx:after:settle", function (event) {
      var list = document.getElementById("mention-list");
      if (!list || event.target !== list) return;
      // An answer that lands once no name is being typed (one was chosen, the message was
      // sent, or the text moved on) is not shown: the next Enter must send, not choose again.
      var box = document.getElementById("composer-text");
      if (!box || mentionToken(box) === null) return closeMentions();
      var options = mentionOptions();
      list.hidden = options.length === 0;
      activateMention(options[0] || null);
    });
    document.addEventListener("mousedown", function (event) {
      var option = event.target.closest && event.target.closest("#mention-list [role=option]");
      if (option) {
        event.preventDefault(); // (the message box keeps the focus)
        chooseMention(option);
      }
    });
    document.addEventListener(
      "keydown",
      function (event) {
        var list = document.getElementById("mention-list");
        if (event.target.id !== "composer-text" || !list || list.hidden) return;
        var options = mentionOptions();
        var active = options.findIndex(function (el) {
          return el.getAttribute("aria-selected") === "true";
        });
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          var step = event.key === "ArrowDown" ? 1 : -1;
          activateMention(options[(active + step + options.length) % options.length]);
        } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
          chooseMention(options[Math.max(active, 0)]);
        } else if (event.key === "Escape") {
          closeMentions();
        } else {
          return;
        }
        event.preventDefault();
        event.stopImmediatePropagation(); // (not a send, nor a move to my last message)
      },
      true
    );
    document.addEventListener("keydown", function (event) {
      var box = event.target;
      if (!box || !box.closest) return;
      var editor = box.closest(".message-editor");
      // Escape closes the editor (the message shows again, unchanged).
      if (event.key === "Escape" && editor) {
        event.preventDefault();
        closeEditor(editor);
        return;
      }
      // Up arrow in an empty message box edits my last message.
      if (event.key === "ArrowUp" && box.id === "composer-text" && box.value === "" && timeline) {
        var mine = timeline.querySelectorAll(".message--mine:not(.message--deleted)");
        if (mine.length) {
          event.preventDefault();
          edit(mine[mine.length - 1]);
        }
        return;
      }
      // In the message box (and the editor) Enter sends and Shift+Enter starts a new line
      // (not while an input method is composing a character). Without JavaScript the box is a
      // plain textarea: Enter starts a new line and the Send button sends.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      if (box.id !== "composer-text" && !(editor && box.tagName === "TEXTAREA")) return;
      event.preventDefault();
      box.form.requestSubmit();
    });
    // Search results, as they come (the page's own are done at the start).
    document.addEventListener("htmx:after:settle", function () {
      document.querySelectorAll("#search-results, #search-panel").forEach(localise);
    });
    // While the connection is down the message box says so and keeps what is typed; htmx
    // holds what is sent meanwhile and sends it when it reconnects (each send has its id, so
    // it is stored once).
    var connected = function (up) {
      var form = document.getElementById("composer");
      var notice = document.getElementById("composer-offline");
      if (form) form.classList.toggle("composer--offline", !up);
      if (notice) notice.hidden = up;
    };
    // What went into a connection that then closed before the server sent anything was never
    // read (a reconnect accepted, then refused at once: 1013 not ready, busy, connecting too
    // often): the message box's sends go back to the front of the queue, for the next
    // connection (each keeps its id: one the server did read is stored once all the same).
    document.addEventListener("htmx:ws:close", function (event) {
      if (event.target.id !== "chat") return;
      var connection = event.detail.connection;
      var unheard = connection && connection.unheard;
      if (unheard && unheard.length && connection.queue) {
        Array.prototype.unshift.apply(connection.queue, unheard);
      }
      if (connection) connection.unheard = null;
      connected(false);
      if (closedForGood(event.detail)) failWaiting(connection);
      else showWaiting(connection);
    });
    document.addEventListener("htmx:ws:after:message:incoming", function (event) {
      var connection = event.detail.connection;
      if (event.target.id === "chat" && connection) connection.unheard = null; // (heard)
    });
    document.addEventListener("htmx:ws:error", function (event) {
      if (event.target.id === "chat") connected(false);
    });
    document.addEventListener("htmx:ws:after:connection", function (event) {
      if (event.target.id !== "chat") return;
      event.detail.connection.unheard = []; // (what goes before the server says anything)
      connected(true);
      showWaiting(event.detail.connection);
      // What a (re)connect replays is the page catching up, not news: screen readers are not
      // read the burst (aria-busy), only the messages that come after it.
      var timeline = document.getElementById("timeline");
      if (timeline) {
        timeline.setAttribute("aria-busy", "true");
        quietAfterBurst(timeline);
      }
    });
    // A message sent while the connection is down waits in htmx's queue until it is back: the
    // box keeps it meanwhile, and says how many wait (counted in that queue once it is in).
    document.addEventListener("htmx:ws:before:message:outgoing", function (event) {
      if (event.target.id !== "composer") return;
      var connection = event.detail.connection;
      setTimeout(function () {
        showWaiting(connection);
      }, 0);
    });
    document.addEventListener("htmx:ws:after:message:outgoing", function (event) {
      var form = event.target;
      if (form.id !== "composer") return;
      var message = event.detail.message || {};
      var connection = event.detail.connection;
      if (connection && connection.unheard) {
        connection.unheard.push({ element: form, message: message });
      }
      showWaiting(connection);
      // The next send gets the next id: the page's own id plus a count. No secure-context-only
      // API (crypto.randomUUID is missing on plain HTTP away from localhost), so every send is
      // stored once, whatever the context.
      var id = form.querySelector("[name=client_message_id]");
      if (id && id.dataset.base) {
        sent += 1;
        id.value = id.dataset.base + "-" + sent;
      }
      // The box is emptied only if it still holds what went (or nothing): what was typed after
      // a held message (the next one) stays, with its reply.
      var box = form.querySelector("[name=text]");
      var sentText = message.values && message.values.text;
      if (typeof sentText === "string" && box.value !== "" && box.value !== sentText) return;
      box.value = "";
      closeMentions();
      clearReply();
      form.querySelectorAll(".composer__error, .composer__status").forEach(function (el) {
        el.textContent = "";
      });
    });
  }

  var sent = 0; // sends from this page so far

  // How many of the message box's sends wait in the connection's queue (htmx sends them when
  // it is back; a connection closed for good drops them).
  function showWaiting(connection) {
    var note = document.getElementById("composer-waiting");
    if (!note) return;
    var waiting = composerSends(connection).length;
    note.hidden = waiting === 0;
    var words = waiting === 1 ? note.dataset.one : note.dataset.many;
    note.textContent = (words || "").replace("{count}", String(waiting));
  }

  // The message box's sends waiting in the connection's queue.
  function composerSends(connection) {
    return ((connection && connection.queue) || []).filter(function (queued) {
      return queued.element && queued.element.id === "composer";
    });
  }

  // A close that htmx will not reconnect after (the server refused the page or ended it:
  // 1008, 1000), as opposed to a lost connection.
  function closedForGood(detail) {
    var config = detail.connection && detail.connection.config;
    return detail.reason === "closed" && !!config && config.reconnectCodes.indexOf(detail.code) < 0;
  }

  // A connection closed for good drops what waits in its queue: the message box's sends are
  // marked failed (taken out of the queue, so never sent later), and their text goes back into
  // the box ahead of what is there, so nothing typed is lost. (If the server's notice replaced
  // the box, that notice says why.)
  function failWaiting(connection) {
    var failed = composerSends(connection);
    failed.forEach(function (queued) {
      connection.queue.splice(connection.queue.indexOf(queued), 1);
    });
    var offline = document.getElementById("composer-offline");
    var note = document.getElementById("composer-closed");
    var box = document.getElementById("composer-text");
    if (offline) offline.hidden = true;
    if (!note || !box) return;
    var texts = failed
      .map(function (queued) {
        var values = (queued.message && queued.message.values) || {};
        return typeof values.text === "string" ? values.text : "";
      })
      .filter(Boolean);
    if (box.value) texts.push(box.value);
    box.value = texts.join("\n\n");
    var words = failed.length === 0 ? note.dataset.none : note.dataset.many;
    if (failed.length === 1) words = note.dataset.one;
    note.textContent = (words || "").replace("{count}", String(failed.length));
    note.hidden = false;
  }

  // The history is a polite live region; during a catch-up burst it is busy, until it has been
  // still for a moment.
  var burst = null;
  function quietAfterBurst(timeline) {
    if (timeline.getAttribute("aria-busy") !== "true") return;
    clearTimeout(burst);
    burst = setTimeout(function () {
      timeline.removeAttribute("aria-busy");
    }, 600);
  }

  // Focus is never lost to a swap: when the focused element is replaced (a home page row by
  // its own Join or Leave answer, then again by the live stream), the element that takes its
  // place (the same id, or else the new content's [autofocus]) gets the focus back.
  var focusedId = null;
  var focusedIn = null; // the id of the nearest element around it that has one (a row)
  document.addEventListener("focusin", function (event) {
    focusedId = event.target.id || null;
    var around = event.target.parentElement && event.target.parentElement.closest("[id]");
    focusedIn = around ? around.id : null;
  });
  document.addEventListener("pointerdown", function () {
    focusedId = focusedIn = null; // (a click elsewhere lets go on purpose; a target sets them)
  });
  function refocusAfterSwap(records) {
    // Most changes (every new message) leave the focus where it is: nothing to do.
    var active = document.activeElement;
    if (active && active !== document.body) return;
    // (After the swap has settled: htmx moves things about within one task.)
    setTimeout(function () {
      regainFocus(records);
    }, 0);
  }
  function regainFocus(records) {
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var again = focusedId && document.getElementById(focusedId);
    for (var i = 0; !again && i < records.length; i++) {
      // (A morph keeps an element and gives it [autofocus]: the swap's answer came second.)
      if (records[i].type === "attributes" && records[i].target.hasAttribute("autofocus")) {
        again = records[i].target;
      }
      var added = records[i].addedNodes;
      for (var j = 0; !again && j < added.length; j++) {
        var node = added[j];
        if (node.nodeType !== 1) continue;
        again = node.matches("[autofocus]") ? node : node.querySelector("[autofocus]");
      }
    }
    // Else the row it was in, if it is still there: its [autofocus], or its main button.
    var row = !again && focusedIn && document.getElementById(focusedIn);
    if (row && focusedId) {
      again = row.querySelector("[autofocus]") || row.querySelector(".button--primary");
    }
    if (again) again.focus();
  }
  function keepFocus() {
    new MutationObserver(refocusAfterSwap).observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["autofocus"],
    });
  }
  if (document.body) keepFocus();
  else document.addEventListener("DOMContentLoaded", keepFocus);

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
