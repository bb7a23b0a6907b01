// dutydesk pages: board drag and drop (SortableJS), keyboard moves without a reload, and the
// filing form's live criteria note. Without JavaScript every action is still a plain form.
(function () {
  "use strict";

  window.dutydeskBusy = false; // pauses live polling while someone drags or a dialog is open

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

  async function refresh(focusId) {
    var b = board();
    if (!b) return;
    var url = "/desks/" + encodeURIComponent(b.dataset.desk) + "/board/live?since=-1";
    if (window.htmx) {
      await window.htmx.ajax("GET", url, { target: "#board", swap: "outerHTML" });
    } else {
      window.location.reload();
      return;
    }
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
        onStart: function (evt) {
          window.dutydeskBusy = true;
          origin = { list: evt.from, next: evt.item.nextElementSibling };
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

  function start() {
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
