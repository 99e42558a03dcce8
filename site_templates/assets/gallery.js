// Filters, search and "Show all" for the creative galleries (generator/site/gallery.py).
// Each gallery is a <div class="cg" data-limit="N">; its cards carry data-tags (tokens separated
// by spaces) and data-text (lowercased copy). A card shows when it has every selected group's
// tag (any one within a group) and its text contains the search; beyond the limit, matching
// cards wait behind "Show all". Offline, no libraries; without JavaScript every card shows.
(function () {
  "use strict";

  function setup(root) {
    if (root.classList.contains("cg-ready")) { return; }
    var limit = parseInt(root.getAttribute("data-limit"), 10) || 0;
    var bar = root.querySelector(".cg-filters");
    var query = root.querySelector(".cg-q");
    var count = root.querySelector(".cg-count");
    var none = root.querySelector(".cg-none");
    var more = root.querySelector(".cg-more");
    var reset = root.querySelector(".cg-reset");
    var toggles = Array.prototype.slice.call(root.querySelectorAll(".cg-toggle"));
    var cards = Array.prototype.slice.call(root.querySelectorAll(".cg-card")).map(function (el) {
      var tags = {};
      (el.getAttribute("data-tags") || "").split(" ").forEach(function (t) {
        if (t) { tags[t] = true; }
      });
      return { el: el, tags: tags, text: el.getAttribute("data-text") || "" };
    });
    var expanded = false;

    function selection() {
      var groups = {};
      toggles.forEach(function (button) {
        if (button.getAttribute("aria-pressed") !== "true") { return; }
        var group = button.getAttribute("data-group");
        (groups[group] = groups[group] || []).push(button.getAttribute("data-tag"));
      });
      return groups;
    }

    function matches(card, groups, needle) {
      for (var group in groups) {
        if (!groups[group].some(function (tag) { return card.tags[tag]; })) { return false; }
      }
      return !needle || card.text.indexOf(needle) !== -1;
    }

    function update() {
      var groups = selection();
      var needle = query ? query.value.trim().toLowerCase().replace(/\s+/g, " ") : "";
      var filtering = !!needle || Object.keys(groups).length > 0;
      var matched = 0;
      cards.forEach(function (card) {
        var ok = matches(card, groups, needle);
        if (ok) { matched += 1; }
        var hide = !ok || (limit > 0 && !expanded && matched > limit);
        if (card.el.hidden !== hide) { card.el.hidden = hide; }
      });
      if (count) {
        count.textContent = (filtering ? matched + " of " + cards.length : cards.length) +
          (cards.length === 1 ? " creative" : " creatives");
      }
      if (reset) { reset.hidden = !filtering; }
      if (none) { none.hidden = matched > 0; }
      if (more) {
        more.hidden = expanded || limit <= 0 || matched <= limit;
        more.textContent = "Show all " + matched;
        more.setAttribute("aria-expanded", expanded ? "true" : "false");
      }
    }

    toggles.forEach(function (button) {
      button.addEventListener("click", function () {
        var pressed = button.getAttribute("aria-pressed") === "true";
        button.setAttribute("aria-pressed", pressed ? "false" : "true");
        update();
      });
    });
    if (query) { query.addEventListener("input", update); }
    if (reset) {
      reset.addEventListener("click", function () {
        toggles.forEach(function (button) { button.setAttribute("aria-pressed", "false"); });
        if (query) { query.value = ""; }
        update();
      });
    }
    if (more) {
      more.addEventListener("click", function () {
        expanded = true;
        update();
      });
    }
    if (bar) { bar.hidden = false; }
    root.classList.add("cg-ready");
    update();
  }

  function start() {
    document.querySelectorAll("div.cg").forEach(setup);
  }
  if (window.document$ && window.document$.subscribe) {
    window.document$.subscribe(start);   // Material swaps pages in place on navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
