/* Draws every dashboard chart: a <div data-chart="ID"> whose figure is the JSON island
 * <script type="application/json" id="ID"> (Django's json_script). No inline scripts, so the
 * portal's Content-Security-Policy (script-src 'self') holds. Charts are drawn again after an
 * htmx swap (a control changed), and [data-print] buttons print the page. */
(function () {
  "use strict";

  // No mode bar: its button styles are injected per chart, which the CSP (style-src 'self')
  // forbids; decision makers read the chart and its table, they do not zoom.
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function draw(root) {
    if (!window.Plotly || !root || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.classList.contains("js-plotly-plot")) {
        return; // drawn already (a swap elsewhere on the page)
      }
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(element, figure.data || [], figure.layout || {}, CONFIG);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  // After a control changed the dashboard (htmx swapped it in): draw the new charts. The
  // event's element may be the old, detached form, so look at the whole document.
  document.addEventListener("htmx:afterSettle", function () {
    draw(document);
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      window.print();
    }
  });
})();
