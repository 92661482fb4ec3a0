/* The staff form, enhanced (the form works without it: indicators/views/_rows.py, StaffRow).
 *
 * - A value is checked when its field is left: the page asks the portal
 *   (indicators:submission_value_check) for the same hard error (range, decimals) or soft-check
 *   warnings that saving would give, and shows them at once in the row, which screen readers
 *   announce (aria-live). Saving and submitting still check everything on the server.
 * - A warning opens the row's explanation; ticking "missing" shows its mark and reason (CSS does
 *   that too where the browser supports :has()).
 * - The sticky bar's count ("17 of 23 filled, 2 warnings need an explanation") follows every
 *   change, in the page's language: the server gives each count's plural form.
 * The texts come from the page (json_script "entry-config"); nothing is written as HTML.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("entry-config");
  var form = document.getElementById("values-form");
  if (!configNode || !form || !window.fetch) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var progress = document.getElementById("entry-progress");

  function field(row, kind) {
    return document.getElementById("id_" + kind + "_" + row.getAttribute("data-item"));
  }

  var rows = Array.prototype.filter.call(document.querySelectorAll(".entry[data-item]"), function (row) {
    return field(row, "value") !== null;
  });

  function say(table, count, values) {
    var text = table.forms[table.index[Math.min(count, table.index.length - 1)]];
    return text.replace(/%\((\w+)\)s/g, function (_match, name) {
      return String(values[name]);
    });
  }

  function state(row) {
    if (row.getAttribute("data-error")) {
      return "error";
    }
    if (field(row, "missing").checked) {
      return "missing";
    }
    if (!field(row, "value").value.trim()) {
      return "empty";
    }
    if (row.getAttribute("data-warned") === "1") {
      return field(row, "explanation").value.trim() ? "explained" : "warning";
    }
    return "filled";
  }

  function refresh() {
    var filled = 0;
    var warned = 0;
    rows.forEach(function (row) {
      var now = state(row);
      if (row.getAttribute("data-state") !== now) {
        row.setAttribute("data-state", now);
        row.querySelector(".entry-state").textContent = config.words[now];
      }
      if (now !== "empty" && now !== "error") {
        filled += 1;
      }
      if (now === "warning") {
        warned += 1;
      }
    });
    var sentence = say(config.filled, filled, { filled: filled, total: rows.length });
    if (warned) {
      sentence += ", " + say(config.warned, warned, { warned: warned });
    }
    if (progress && progress.textContent !== sentence) {
      progress.textContent = sentence;
    }
  }

  function describe(input, pk, ids) {
    var kept = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== "id_value_" + pk + "_error" && id !== "warn-" + pk;
    });
    var all = kept.concat(ids);
    if (all.length) {
      input.setAttribute("aria-describedby", all.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // The row's feed after a check: the error, or the warnings and what they ask.
  function show(row, result) {
    var pk = row.getAttribute("data-item");
    var input = field(row, "value");
    var feed = row.querySelector(".entry-feed");
    var ids = [];
    var children = [];
    if (result.error) {
      var box = element("div", "invalid-feedback d-block");
      box.id = "id_value_" + pk + "_error";
      var line = element("p");
      line.appendChild(element("strong", "", result.error));
      box.appendChild(line);
      children.push(box);
      ids.push(box.id);
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
    } else {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
    }
    if (result.warnings && result.warnings.length) {
      var warnings = element("div", "entry-warnings");
      warnings.id = "warn-" + pk;
      var list = element("ul");
      result.warnings.forEach(function (warning) {
        list.appendChild(element("li", "", config.warning + ": " + warning));
      });
      warnings.appendChild(list);
      if (!field(row, "explanation").value.trim()) {
        warnings.appendChild(element("p", "entry-explain", config.explain));
        row.querySelector(".entry-explanation").open = true;
      }
      children.push(warnings);
      ids.push(warnings.id);
    }
    if (result.failed) {
      children.push(element("p", "entry-problem", config.failed));
    }
    feed.replaceChildren.apply(feed, children);
    describe(input, pk, ids);
    row.setAttribute("data-warned", result.warnings && result.warnings.length ? "1" : "0");
    if (result.error) {
      row.setAttribute("data-error", "value");
    } else {
      row.removeAttribute("data-error");
    }
    refresh();
  }

  function check(row) {
    var input = field(row, "value");
    var sequence = String(Number(row.getAttribute("data-sequence") || "0") + 1);
    row.setAttribute("data-sequence", sequence);
    if (!input.value.trim()) {
      show(row, { error: null, warnings: [] });
      return;
    }
    var body = new URLSearchParams();
    body.set("item", row.getAttribute("data-item"));
    body.set("value", input.value);
    fetch(config.check, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "", "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .catch(function () {
        return { error: null, warnings: [], failed: true };
      })
      .then(function (result) {
        // A later check of the same field wins.
        if (row.getAttribute("data-sequence") === sequence) {
          show(row, result);
        }
      });
  }

  rows.forEach(function (row) {
    var missing = field(row, "missing");
    field(row, "value").addEventListener("change", function () {
      check(row);
    });
    field(row, "value").addEventListener("input", refresh);
    missing.addEventListener("change", function () {
      row.classList.toggle("shows-missing", missing.checked);
      if (row.getAttribute("data-error") !== "value") {
        row.removeAttribute("data-error");
      }
      refresh();
    });
    if (missing.checked) {
      row.classList.add("shows-missing");
    }
    field(row, "reason").addEventListener("input", function () {
      if (row.getAttribute("data-error") === "other") {
        row.removeAttribute("data-error");
      }
      refresh();
    });
    field(row, "marker").addEventListener("change", function () {
      if (row.getAttribute("data-error") === "other") {
        row.removeAttribute("data-error");
      }
      refresh();
    });
    field(row, "explanation").addEventListener("input", refresh);
  });
  refresh();
})();
