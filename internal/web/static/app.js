// countersign web page: enhancements only. Every page works without this
// script; with it, a field's evidence follows the field in focus, the
// common actions have keys, and a comparison's candidates are ranked by
// dragging or by keys.
(function () {
  "use strict";

  // typing reports whether a key press belongs to a text control.
  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // showEvidence marks field index's evidence in the document, scrolls the
  // document to it and marks the field's card.
  function showEvidence(index) {
    document.querySelectorAll("mark.active").forEach(function (m) { m.classList.remove("active"); });
    document.querySelectorAll(".field.active").forEach(function (f) { f.classList.remove("active"); });
    document.querySelectorAll('mark[data-f~="' + index + '"]').forEach(function (m) { m.classList.add("active"); });
    var card = document.querySelector('.field[data-field="' + index + '"]');
    if (card) { card.classList.add("active"); }
    showBoxes(index);
    var anchor = document.getElementById("ev-" + index);
    // The evidence may be a node of the alert tree, or text in a folded
    // view: open what hides it.
    for (var d = anchor && anchor.parentElement; d; d = d.parentElement) {
      if (d.tagName === "DETAILS") { d.open = true; }
    }
    var pane = anchor && anchor.closest(".doc-tree, .doc-text");
    if (anchor && pane) {
      // Scroll the document pane only, so the field stays in view.
      var top = anchor.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
      pane.scrollTop = Math.max(0, top - pane.clientHeight / 3);
      if (pane.getBoundingClientRect().bottom < 0 || pane.getBoundingClientRect().top > window.innerHeight) {
        pane.scrollIntoView({ block: "start" });
      }
    }
  }

  // showBoxes marks field index's evidence boxes on a PDF's page images
  // and scrolls the pages pane (only it) to the first.
  function showBoxes(index) {
    document.querySelectorAll("rect.ev-box.active").forEach(function (b) { b.classList.remove("active"); });
    var boxes = document.querySelectorAll('rect.ev-box[data-f="' + index + '"]');
    boxes.forEach(function (b) { b.classList.add("active"); });
    var pane = document.getElementById("doc-pages");
    if (!boxes.length || !pane) { return; }
    var top = boxes[0].getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
    pane.scrollTop = Math.max(0, top - pane.clientHeight / 3);
    var r = pane.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) { pane.scrollIntoView({ block: "start" }); }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-evidence]");
    if (link) {
      event.preventDefault();
      showEvidence(link.getAttribute("data-evidence"));
      return;
    }
    // A click on highlighted text or a box on a page shows the field it
    // is evidence for.
    var mark = event.target.closest("mark[data-f], rect.ev-box");
    if (mark) {
      var index = mark.getAttribute("data-f").split(" ")[0];
      showEvidence(index);
      var card = document.querySelector('.field[data-field="' + index + '"]');
      if (card) { card.scrollIntoView({ block: "nearest" }); }
    }
  });

  document.addEventListener("focusin", function (event) {
    var link = event.target.closest && event.target.closest("a[data-evidence]");
    if (link) { showEvidence(link.getAttribute("data-evidence")); }
  });

  // move focuses the next (step 1) or previous (-1) element of the page's
  // list: reviews in the queue, fields on a review.
  function move(step) {
    var items = Array.prototype.slice.call(document.querySelectorAll("[data-nav]"));
    if (items.length === 0) { return; }
    var at = items.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
    items[next].focus();
    items[next].scrollIntoView({ block: "nearest" });
  }

  // pending is the control a key chose, focused when that key is released:
  // focused at once, the control would receive the key's own character.
  var pending = null;

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event)) {
      return;
    }
    var key = event.key;
    if (key === "j" || key === "k") {
      move(key === "j" ? 1 : -1);
    } else if (key === "c") {
      var first = document.querySelector("#correct-form input:not([type=hidden]), #correct-form select, #correct-form textarea, #rank-form input:not([type=hidden]), #rank-form select");
      if (!first) { return; }
      pending = { key: key, control: first };
    } else if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (!help) { return; }
      help.open = !help.open;
      help.querySelector("summary").focus();
    } else if (/^[a-z]$/.test(key)) {
      // Elements that name a key: links are followed, controls focused,
      // never pressed, so a stray key decides nothing.
      var target = document.querySelector('[data-key="' + key + '"]');
      if (!target || target.disabled) { return; }
      if (target.tagName === "A") { target.click(); } else { pending = { key: key, control: target }; }
    } else {
      return;
    }
    event.preventDefault();
  });

  // Ranking a comparison's candidates (a list marked data-rank): drag a
  // candidate by its heading, or move the one in focus with Alt+ArrowUp /
  // Alt+ArrowDown or its Up and Down buttons. The rank numbers, which the
  // form sends and which work without this script, follow the order; a
  // "ranked equal to the one above" box, where the task type allows ties,
  // gives a candidate the rank above it. Each move is said in the status
  // region for screen readers.
  var ranking = document.querySelector("ol[data-rank]");
  if (ranking) { rankable(ranking); }

  function rankable(list) {
    var status = document.getElementById("rank-status");
    var cards = function () { return Array.prototype.slice.call(list.querySelectorAll(":scope > li.candidate")); };
    var say = function (text) { if (status) { status.textContent = text; } };

    // renumber gives each candidate its place (a tied one the rank above
    // it) and shows the controls that fit its place.
    function renumber() {
      var all = cards();
      var rank = 0;
      all.forEach(function (card, i) {
        var tie = card.querySelector("input[data-tie]");
        var tied = i > 0 && tie && tie.checked;
        if (!tied) { rank = i + 1; }
        card.querySelector("input.rank-input").value = String(rank);
        card.querySelector(".pos").textContent = String(i + 1);
        card.querySelector('[data-move="up"]').disabled = i === 0;
        card.querySelector('[data-move="down"]').disabled = i === all.length - 1;
        if (tie) {
          tie.closest("label").hidden = i === 0;
          if (i === 0) { tie.checked = false; }
        }
      });
    }

    function where(card) {
      var all = cards();
      return "Candidate " + card.dataset.id + " is now in place " + (all.indexOf(card) + 1) + " of " + all.length + ".";
    }

    // move moves card by step places, keeping the focus where it was.
    function move(card, step) {
      var all = cards();
      var at = all.indexOf(card);
      var to = at + step;
      if (to < 0 || to >= all.length) {
        say("Candidate " + card.dataset.id + " is already " + (step < 0 ? "first." : "last."));
        return;
      }
      var focused = document.activeElement;
      list.insertBefore(card, step < 0 ? all[to] : all[to].nextSibling);
      renumber();
      if (focused && focused !== document.body) { focused.focus(); }
      say(where(card));
    }

    // sortByNumbers orders the list by typed rank numbers (equal ones keep
    // their order, empty ones go last) and marks equal numbers as ties.
    function sortByNumbers() {
      var rankOf = function (card) {
        var n = parseInt(card.querySelector("input.rank-input").value, 10);
        return isNaN(n) ? Infinity : n;
      };
      var all = cards();
      var sorted = all.slice().sort(function (a, b) { return (rankOf(a) - rankOf(b)) || (all.indexOf(a) - all.indexOf(b)); });
      sorted.forEach(function (card, i) {
        list.appendChild(card);
        var tie = card.querySelector("input[data-tie]");
        if (tie) { tie.checked = i > 0 && rankOf(card) !== Infinity && rankOf(card) === rankOf(sorted[i - 1]); }
        card.querySelector(".pos").textContent = String(i + 1);
      });
    }

    cards().forEach(function (card) {
      card.querySelectorAll("[data-move]").forEach(function (b) { b.hidden = false; });
      card.querySelector(".cand-head").setAttribute("draggable", "true");
    });
    list.querySelectorAll("input[data-tie]").forEach(function (tie, i) {
      tie.closest("label").hidden = i === 0;
    });
    list.querySelectorAll('[data-move="up"]').forEach(function (b, i) { b.disabled = i === 0; });
    list.querySelectorAll('[data-move="down"]').forEach(function (b, i, all) { b.disabled = i === all.length - 1; });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button) { return; }
      move(button.closest("li.candidate"), button.getAttribute("data-move") === "up" ? -1 : 1);
    });
    list.addEventListener("keydown", function (event) {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown") || typing(event)) { return; }
      var card = event.target.closest("li.candidate");
      if (!card) { return; }
      event.preventDefault();
      move(card, event.key === "ArrowUp" ? -1 : 1);
    });
    list.addEventListener("change", function (event) {
      var card = event.target.closest("li.candidate");
      if (event.target.matches("input[data-tie]")) {
        renumber();
        say(event.target.checked ? "Candidate " + card.dataset.id + " is ranked equal to the one above." : "Candidate " + card.dataset.id + " is ranked below the one above.");
      } else if (event.target.matches("input.rank-input")) {
        sortByNumbers();
        say(where(card));
      } else if (event.target.matches("select.unsafe-select")) {
        card.classList.toggle("unsafe", event.target.value !== "");
      }
    });

    // Drag and drop (HTML5): the heading is the handle; a candidate dropped
    // on the upper half of another goes before it, on the lower half after.
    var dragging = null;
    function clearMarks() {
      list.querySelectorAll(".drop-before, .drop-after").forEach(function (c) { c.classList.remove("drop-before", "drop-after"); });
    }
    function target(event) {
      var card = event.target.closest && event.target.closest("li.candidate");
      if (!card || card.parentElement !== list) { return null; }
      var box = card.getBoundingClientRect();
      return { card: card, before: event.clientY < box.top + box.height / 2 };
    }
    list.addEventListener("dragstart", function (event) {
      var head = event.target.closest && event.target.closest(".cand-head");
      if (!head) { return; }
      dragging = head.closest("li.candidate");
      dragging.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragging.dataset.id);
      event.dataTransfer.setDragImage(dragging, 16, 16);
    });
    list.addEventListener("dragover", function (event) {
      var t = target(event);
      if (!t) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearMarks();
      if (t.card !== dragging) { t.card.classList.add(t.before ? "drop-before" : "drop-after"); }
    });
    list.addEventListener("drop", function (event) {
      var t = target(event);
      if (!t) { return; }
      event.preventDefault();
      var id = event.dataTransfer.getData("text/plain");
      var card = id ? list.querySelector(':scope > li.candidate[data-id="' + CSS.escape(id) + '"]') : dragging;
      clearMarks();
      if (card && card !== t.card) {
        list.insertBefore(card, t.before ? t.card : t.card.nextSibling);
        renumber();
        say(where(card));
        card.focus();
      }
      if (card) { card.classList.remove("dragging"); }
      dragging = null;
    });
    list.addEventListener("dragend", function () {
      clearMarks();
      if (dragging) { dragging.classList.remove("dragging"); }
      dragging = null;
    });
  }

  document.addEventListener("keyup", function (event) {
    if (pending && event.key === pending.key) {
      pending.control.focus();
      pending = null;
    }
  });
})();
