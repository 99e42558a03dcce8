// Draws every chart on the page with the locally bundled Vega (assets/vega.js).
// Each chart is a <div class="vega-chart" data-spec="ID"> next to a
// <script type="application/json" id="ID"> holding its Vega-Lite spec, data inline.
(function () {
  "use strict";

  function draw(root) {
    var charts = root.querySelectorAll("div.vega-chart[data-spec]");
    charts.forEach(function (el) {
      if (el.getAttribute("data-drawn")) { return; }
      var source = document.getElementById(el.getAttribute("data-spec"));
      if (!source) { return; }
      el.setAttribute("data-drawn", "1");
      var spec;
      try {
        spec = JSON.parse(source.textContent);
      } catch (err) {
        el.textContent = "This chart could not be read.";
        el.classList.add("vega-error");
        return;
      }
      window.vegaEmbed(el, spec, { actions: false, renderer: "svg" }).catch(function (err) {
        el.textContent = "This chart could not be drawn: " + err.message;
        el.classList.add("vega-error");
      });
    });
  }

  function start() { draw(document); }
  if (window.document$ && window.document$.subscribe) {
    window.document$.subscribe(start);   // Material re-renders pages on navigation
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
