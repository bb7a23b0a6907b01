// dutydesk pages: board drag and drop (SortableJS), keyboard moves without a reload, and the
// filing form's live criteria note. Without JavaScript every action is still a plain form.
(function () {
  "use strict";

  window.dutydeskBusy = false; // pauses live polling while someone drags or a dialog is open

  // One submission, one effect: every form sent by POST carries a random token; sending the
  // same form again (a double click, a retry) sends the same token, and the server answers
  // with where the first one went instead of acting twice (web/submissions.py).
  function submissionToken() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); })
      .join("");
  }
  document.addEventListener(
    "submit",
    function (e) {
      var form = e.target;
      if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
      if (form.querySelector('input[name="submission"]')) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "submission";
      input.value = submissionToken();
      form.appendChild(input);
    },
    true
  );
  // A page restored by Back is a new chance to send its forms: new tokens when next sent.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    document.querySelectorAll('form input[name="submission"]').forEach(function (input) {
      input.remove();
    });
  });

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function board() {
    return document.getElementById("board");
  }

  async function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) {
      if (fields[k] !== undefined && fields[k] !== null) body.append(k, fields[k]);
    });
    var response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
      });
    } catch (err) {
      return { ok: false, data: { detail: "dutydesk could not be reached; check your connection." } };
    }
    var data;
    try {
      data = await response.json();
    } catch (err) {
      data = { detail: "The server answered " + response.status + "." };
    }
    return { ok: response.ok, data: data };
  }

  function say(message) {
    var el = document.getElementById("board-message");
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }

  function announce(message) {
    var el = document.getElementById("board-status");
    if (el) el.textContent = message;
  }

  // Live board: every few seconds ask what changed since the version shown. The answer is an
  // empty 204 while nothing did; otherwise the columns' card keys in order plus only the cards
  // that changed (or, after many changes, the whole board).
  var polling = false;
  var lastFull = Date.now();
  var FULL_EVERY = 5 * 60 * 1000; // SLO clock labels age: redraw every card now and then

  function parseCard(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function fixArrows(list) {
    if (list.dataset.rankable !== "yes") return;
    var cards = Array.prototype.filter.call(list.children, function (el) {
      return el.classList.contains("card");
    });
    cards.forEach(function (card, i) {
      var prev = cards[i - 1];
      var next = cards[i + 1];
      var up = card.querySelector('[data-rank="up"]');
      var down = card.querySelector('[data-rank="down"]');
      var key = card.dataset.key;
      if (up) {
        var okUp = prev && prev.dataset.group === card.dataset.group;
        up.hidden = !okUp;
        up.value = okUp ? prev.dataset.key : "";
        up.setAttribute("aria-label", "Move " + key + " up" + (okUp ? ", above " + prev.dataset.key : ""));
      }
      if (down) {
        var okDown = next && next.dataset.group === card.dataset.group;
        down.hidden = !okDown;
        down.value = okDown ? next.dataset.key : "";
        down.setAttribute("aria-label", "Move " + key + " down" + (okDown ? ", below " + next.dataset.key : ""));
      }
    });
  }

  function applyChanges(data) {
    var b = board();
    if (data.board) {
      var fresh = parseCard(data.board);
      b.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      initBoard(fresh);
      return true;
    }
    var focused = document.activeElement && document.activeElement.id;
    var found = {};
    b.querySelectorAll(".card").forEach(function (el) {
      found[el.dataset.key] = el;
    });
    var missing = false;
    (data.columns || []).forEach(function (col) {
      col.keys.forEach(function (key) {
        if (!data.cards[key] && !found[key]) missing = true;
      });
    });
    if (missing) return false; // a card came from beyond what this page holds: load it all
    (data.columns || []).forEach(function (col) {
      var list = b.querySelector('ol.cards[data-column="' + CSS.escape(col.name) + '"]');
      if (!list) return;
      var items = col.keys.map(function (key) {
        return data.cards[key] ? parseCard(data.cards[key]) : found[key];
      });
      if (!items.length) {
        var empty = document.createElement("li");
        empty.className = "empty";
        empty.setAttribute("aria-hidden", "true");
        empty.textContent = "—";
        items = [empty];
      }
      list.replaceChildren.apply(list, items);
      fixArrows(list);
      var section = list.closest("section");
      var count = section.querySelector(".column-head .count");
      count.textContent = col.total;
      count.setAttribute("aria-label", col.total + " tickets");
      var more = section.querySelector("a.more");
      if (more) {
        var extra = Math.max(0, col.total - col.keys.length);
        more.hidden = extra === 0;
        more.querySelector("[data-more]").textContent = extra;
      }
    });
    b.dataset.version = data.version;
    if (focused) {
      var again = document.getElementById(focused);
      if (again && document.activeElement !== again) again.focus();
    }
    return true;
  }

  async function pollBoard(force) {
    var b = board();
    if (!b || polling || (!force && (window.dutydeskBusy || document.hidden))) return;
    polling = true;
    try {
      var since = b.dataset.version || "-1";
      if (Date.now() - lastFull > FULL_EVERY) {
        since = "-1";
        lastFull = Date.now();
      }
      var url = "/desks/" + encodeURIComponent(b.dataset.desk) + "/board/changes?since=" + since;
      var response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) {
        window.location.reload();
        return;
      }
      if (response.status !== 200) return;
      var data = await response.json();
      if (!applyChanges(data)) {
        var all = await fetch(url.replace(/since=[^&]*/, "since=-1"), { credentials: "same-origin" });
        if (all.ok) applyChanges(await all.json());
      }
    } catch (err) {
      // offline for a moment: the next beat tries again
    } finally {
      polling = false;
    }
  }

  async function refresh(focusId) {
    await pollBoard(true);
    if (focusId) {
      var el = document.getElementById(focusId);
      if (el) el.focus();
    }
  }

  // The move dialog: where to (the card's allowed moves), and a resolution when closing.
  function askMove(card, preset) {
    var dialog = document.getElementById("move-dialog");
    if (!dialog || !dialog.showModal) return Promise.resolve(null);
    var form = dialog.querySelector("form");
    var to = form.elements.to;
    var resolution = form.elements.resolution;
    var dup = form.elements.duplicate_of;
    var doneFields = form.querySelector(".done-fields");
    var dupField = form.querySelector(".dup-field");
    var done = board().dataset.done;
    dialog.querySelector("[data-move-key]").textContent = card.dataset.key;
    to.innerHTML = "";
    (card.dataset.moves || "").split("|").filter(Boolean).forEach(function (name) {
      var option = document.createElement("option");
      option.value = option.textContent = name;
      to.appendChild(option);
    });
    if (preset) to.value = preset;
    resolution.value = "fixed";
    dup.value = "";
    function sync() {
      doneFields.hidden = to.value !== done;
      dupField.hidden = doneFields.hidden || resolution.value !== "duplicate";
    }
    to.onchange = sync;
    resolution.onchange = sync;
    sync();
    window.dutydeskBusy = true;
    return new Promise(function (resolve) {
      var finished = false;
      function finish(value) {
        if (finished) return;
        finished = true;
        if (dialog.open) dialog.close();
        resolve(value);
      }
      form.onsubmit = function (e) {
        e.preventDefault();
        var closing = to.value === done;
        finish({
          to: to.value,
          resolution: closing ? resolution.value : "",
          duplicate_of: closing && resolution.value === "duplicate" ? dup.value.trim() : "",
        });
      };
      dialog.querySelector("[data-cancel]").onclick = function () {
        finish(null);
      };
      dialog.onclose = function () {
        finish(null);
      };
      // Enter on a closed menu confirms, as it would in a text field.
      form.onkeydown = function (e) {
        if (e.key === "Enter" && e.target.tagName === "SELECT") {
          e.preventDefault();
          form.requestSubmit();
        }
      };
      dialog.showModal();
      (preset ? resolution : to).focus();
    });
  }

  async function move(key, to, version, extra) {
    var fields = Object.assign({}, extra || {}, { to: to, version: version });
    var res = await post("/tickets/" + encodeURIComponent(key) + "/move", fields);
    if (!res.ok) {
      say(res.data.detail || "The move was refused.");
      announce(key + " was not moved: " + (res.data.detail || "refused"));
      return false;
    }
    say("");
    announce(key + " moved to " + to + ".");
    return true;
  }

  async function rank(key, fields, version) {
    var res = await post("/tickets/" + encodeURIComponent(key) + "/rank", Object.assign({ version: version }, fields));
    if (!res.ok) {
      say(res.data.detail || "The new order was refused.");
      return false;
    }
    say("");
    announce(key + " reordered.");
    return true;
  }

  function siblingCard(item, forward) {
    var el = forward ? item.nextElementSibling : item.previousElementSibling;
    while (el && !el.classList.contains("card")) {
      el = forward ? el.nextElementSibling : el.previousElementSibling;
    }
    return el;
  }

  var origin = null;

  function revert(item) {
    if (!origin) return;
    origin.list.insertBefore(item, origin.next && origin.next.parentNode === origin.list ? origin.next : null);
  }

  async function onDrop(evt) {
    document.querySelectorAll("ol.cards.drop-no").forEach(function (l) {
      l.classList.remove("drop-no");
    });
    var item = evt.item;
    var key = item.dataset.key;
    var version = item.dataset.version;
    var target = evt.to.dataset.column;
    try {
      if (evt.from === evt.to) {
        if (evt.oldIndex === evt.newIndex) return;
        var next = siblingCard(item, true);
        var prev = siblingCard(item, false);
        var fields = next ? { before: next.dataset.key } : { after: prev.dataset.key };
        if (!(await rank(key, fields, version))) revert(item);
      } else {
        var extra = {};
        if (target === board().dataset.done) {
          extra = await askMove(item, target);
          if (!extra || extra.to !== target) {
            revert(item);
            if (extra) await move(key, extra.to, version, extra);
            await refresh();
            return;
          }
        }
        if (!(await move(key, target, version, extra))) revert(item);
      }
      await refresh();
    } finally {
      origin = null;
      window.dutydeskBusy = false;
    }
  }

  function initBoard(root) {
    var b = root && root.id === "board" ? root : root && root.querySelector ? root.querySelector("#board") : null;
    if (!b || b.dataset.movable !== "yes" || typeof window.Sortable === "undefined") return;
    b.querySelectorAll("ol.cards").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board",
        draggable: ".card",
        sort: list.dataset.rankable === "yes",
        filter: "select, button, input, label",
        preventOnFilter: false,
        forceFallback: true,
        fallbackTolerance: 4,
        animation: 120,
        // Offer only the moves the rules allow: another column only if the workflow allows
        // it, and within a column only inside the card's order group.
        onMove: function (evt) {
          var item = evt.dragged;
          if (evt.to !== evt.from) {
            return (item.dataset.moves || "").split("|").indexOf(evt.to.dataset.column) >= 0;
          }
          var rel = evt.related;
          return !(rel && rel.classList.contains("card") && rel.dataset.group !== item.dataset.group);
        },
        onStart: function (evt) {
          window.dutydeskBusy = true;
          origin = { list: evt.from, next: evt.item.nextElementSibling };
          var moves = (evt.item.dataset.moves || "").split("|");
          b.querySelectorAll("ol.cards").forEach(function (l) {
            if (l !== evt.from && moves.indexOf(l.dataset.column) < 0) l.classList.add("drop-no");
          });
        },
        onEnd: onDrop,
      });
    });
  }

  // Keyboard alternative: a card's "Move…" button opens the move dialog; ↑ ↓ set the order.
  document.addEventListener("click", async function (e) {
    var button = e.target.closest ? e.target.closest("#board [data-move]") : null;
    if (!button || !document.getElementById("move-dialog")) return;
    e.preventDefault();
    var card = button.closest(".card");
    var key = card.dataset.key;
    var answer = await askMove(card, null);
    if (answer) {
      window.dutydeskBusy = true;
      try {
        await move(key, answer.to, card.dataset.version, answer);
        await refresh("mv-" + key);
      } finally {
        window.dutydeskBusy = false;
      }
    } else {
      window.dutydeskBusy = false;
      button.focus();
    }
  });

  document.addEventListener("submit", async function (e) {
    var button = e.submitter;
    if (!e.target.matches || !e.target.matches("#board-form") || !button) return;
    e.preventDefault();
    var card = button.closest(".card");
    var key = card.dataset.key;
    var fields = {};
    fields[button.name] = button.value;
    window.dutydeskBusy = true;
    try {
      await rank(key, fields, card.dataset.version);
      await refresh();
      var again = document.getElementById(button.id) || document.getElementById("mv-" + key);
      if (again) again.focus();
    } finally {
      window.dutydeskBusy = false;
    }
  });

  // Filing form: say where the request goes as criteria are ticked.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (box.name !== "criteria") return;
    var set = box.closest("fieldset");
    var any = set.querySelectorAll('input[name="criteria"]:checked').length > 0;
    var none = set.querySelector(".when-none");
    var some = set.querySelector(".when-some");
    if (none) none.hidden = any;
    if (some) some.hidden = !any;
  });

  // Behaviour once written inline, here so the Content-Security-Policy needs no inline script.
  // Live polling (hx-trigger "every 3s" on [data-live]) skips a beat while someone is busy.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (window.dutydeskBusy && elt && elt.hasAttribute && elt.hasAttribute("data-live")) {
      e.preventDefault();
    }
    // The ticket page refreshes itself like the board, but never under someone's typing: it
    // waits while a field of it has focus or holds unsent text (the form then sends its
    // version, and a stale one is refused with the reason, as the API does).
    if (elt && elt.hasAttribute && elt.hasAttribute("data-live-ticket")) {
      var active = document.activeElement;
      var typing = active && elt.contains(active) && active.matches("input, textarea, select");
      if (typing || elt.hasAttribute("data-dirty")) e.preventDefault();
    }
  });
  document.addEventListener("input", function (e) {
    var live = e.target.closest && e.target.closest("[data-live-ticket]");
    if (live) live.setAttribute("data-dirty", "");
  });
  // Open panels (edit, triage) stay open when the ticket page refreshes.
  var openPanels = [];
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (target && target.id === "ticket-live") {
      openPanels = Array.prototype.map.call(
        target.querySelectorAll("details[open]"), function (d) { return d.id || ""; });
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var fresh = document.getElementById("ticket-live");
    if (!fresh || !openPanels.length) return;
    openPanels.forEach(function (id) {
      var d = id && document.getElementById(id);
      if (d && fresh.contains(d)) d.open = true;
    });
    openPanels = [];
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-select-on-focus]")) e.target.select();
  });
  document.addEventListener("click", function (e) {
    var back = e.target.closest && e.target.closest("a[data-back]");
    if (back && window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
  });

  // ------------------------------------------------------------------ keyboard shortcuts
  // Listed on the help overlay (?). Keys are ignored while typing in a field, and never
  // combined with Ctrl, Alt or Meta, so the browser's and screen readers' own keys still work.

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function openHelp() {
    var dialog = document.getElementById("help-dialog");
    if (dialog && dialog.showModal && !dialog.open) {
      dialog.showModal();
      dialog.querySelector("button").focus();
    }
  }

  function currentCard() {
    var el = document.activeElement;
    return el && el.closest ? el.closest("#board .card") : null;
  }

  function focusCard(card) {
    if (!card) return;
    var link = card.querySelector("a.key");
    if (link) {
      link.focus();
      card.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  function cardsOf(list) {
    return list ? Array.prototype.filter.call(list.children, function (el) {
      return el.classList.contains("card");
    }) : [];
  }

  function boardKey(e) {
    var b = board();
    if (!b) return false;
    var card = currentCard();
    var lists = Array.prototype.slice.call(b.querySelectorAll("ol.cards"));
    if (!card) {
      if ("jklh".indexOf(e.key) >= 0) {
        var first = lists.map(cardsOf).filter(function (c) { return c.length; })[0];
        focusCard(first && first[0]);
        return true;
      }
      return false;
    }
    var list = card.parentElement;
    var mine = cardsOf(list);
    var i = mine.indexOf(card);
    if (e.key === "j" || e.key === "k") {
      focusCard(mine[i + (e.key === "j" ? 1 : -1)]);
      return true;
    }
    if (e.key === "h" || e.key === "l") {
      var at = lists.indexOf(list);
      var step = e.key === "l" ? 1 : -1;
      for (var n = at + step; n >= 0 && n < lists.length; n += step) {
        var there = cardsOf(lists[n]);
        if (there.length) {
          focusCard(there[Math.min(i, there.length - 1)]);
          break;
        }
      }
      return true;
    }
    if (e.key === "o" || (e.key === "Enter" && !e.target.closest("button, a"))) {
      window.location.href = "/tickets/" + encodeURIComponent(card.dataset.key);
      return true;
    }
    if (e.key === "m") {
      var move = card.querySelector("[data-move]");
      if (move) move.click();
      return true;
    }
    if (e.shiftKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      var arrow = card.querySelector(e.key === "ArrowUp" ? '[data-rank="up"]' : '[data-rank="down"]');
      if (arrow && !arrow.hidden) arrow.click();
      else announce("Already at the " + (e.key === "ArrowUp" ? "top" : "bottom") + " of its group in the desk’s order.");
      return true;
    }
    return false;
  }

  function ticketKey(e) {
    var target = null;
    if (e.key === "c") target = document.getElementById("comment-body");
    if (e.key === "m") target = document.getElementById("move-to");
    if (e.key === "t") {
      var heading = document.getElementById("triage-h");
      var details = heading && heading.closest("details");
      if (details) {
        details.open = true;
        target = details.querySelector("select, input:not([type=hidden]), textarea");
      }
    }
    if (e.key === "u") {
      var crumb = document.querySelector(".crumbs a");
      if (crumb) window.location.href = crumb.getAttribute("href");
      return !!crumb;
    }
    if (!target) return false;
    target.focus();
    target.scrollIntoView({ block: "center" });
    return true;
  }

  var pendingG = 0;

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey) return;
    if (e.key === "Escape" && typing(e.target) && e.target.id === "nav-q") {
      e.target.blur();
      return;
    }
    if (typing(e.target)) return;
    if (document.querySelector("dialog[open]")) return;
    if (e.key === "/") {
      var box = document.getElementById("nav-q");
      if (box) {
        e.preventDefault();
        box.focus();
        box.select();
      }
      return;
    }
    if (e.key === "?") {
      e.preventDefault();
      openHelp();
      return;
    }
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      var desk = (window.location.pathname.match(/^\/desks\/([^/]+)/) || [])[1];
      var crumb = document.querySelector(".crumbs a");
      if (!desk && crumb) desk = (crumb.getAttribute("href").match(/^\/desks\/([^/]+)/) || [])[1];
      var where = { m: "/me", b: desk && "/desks/" + desk + "/board", q: desk && "/desks/" + desk + "/queue", n: desk && "/desks/" + desk + "/new" }[e.key];
      if (where) {
        e.preventDefault();
        window.location.href = where;
      }
      return;
    }
    if (e.key === "g") {
      pendingG = Date.now();
      return;
    }
    if (board() ? boardKey(e) : ticketKey(e)) e.preventDefault();
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-help]")) openHelp();
  });

  function start() {
    window.setInterval(function () {
      pollBoard(false);
    }, 3000);
    if (window.htmx) {
      window.htmx.onLoad(initBoard);
    } else {
      initBoard(document.body);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
