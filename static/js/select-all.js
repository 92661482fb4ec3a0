/* The review list's "select all" checkbox: without JavaScript it is a form field of its own
 * (the server then takes every submitted submission shown); with it, it also ticks and unticks
 * the row checkboxes named in its data-select-all attribute, and follows them. */
(function () {
  "use strict";

  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var form = all.form;
    var boxes = function () {
      return form.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-select-all") + '"]');
    };
    all.addEventListener("change", function () {
      boxes().forEach(function (box) {
        box.checked = all.checked;
      });
    });
    form.addEventListener("change", function (event) {
      if (event.target === all || event.target.name !== all.getAttribute("data-select-all")) {
        return;
      }
      var checked = Array.prototype.filter.call(boxes(), function (box) {
        return box.checked;
      });
      all.checked = checked.length === boxes().length;
    });
  });
})();
