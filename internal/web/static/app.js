// countersign web page: enhancements only. Every page works without this
// script; with it, a field's evidence follows the field in focus and the
// common actions have keys.
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
      var first = document.querySelector("#correct-form input:not([type=hidden]), #correct-form select, #correct-form textarea");
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

  document.addEventListener("keyup", function (event) {
    if (pending && event.key === pending.key) {
      pending.control.focus();
      pending = null;
    }
  });
})();
