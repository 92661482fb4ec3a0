/* Draws every dashboard chart: a <div data-chart="ID"> whose figure is the JSON island
 * <script type="application/json" id="ID"> (Django's json_script). No inline scripts, so the
 * portal's Content-Security-Policy (script-src 'self') holds. Charts are drawn again after an
 * htmx swap (a control changed), and [data-print] buttons print the page. */
(function () {
  "use strict";

  // No mode bar: its button styles are injected per chart, which the CSP (style-src 'self')
  // forbids; decision makers read the chart and its table, they do not zoom.
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  // A map keeps its aspect ratio (the y axis is anchored to the x axis), so on a narrow screen
  // its fixed height would leave empty bands above and below it: shrink it to the width.
  function fitMap(element, layout) {
    var width = element.clientWidth;
    if (layout.height && layout.yaxis && layout.yaxis.scaleanchor && width) {
      layout.height = Math.min(layout.height, Math.max(300, Math.round(170 + width * 0.6)));
    }
  }

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
      var layout = figure.layout || {};
      fitMap(element, layout);
      window.Plotly.newPlot(element, figure.data || [], layout, CONFIG);
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
