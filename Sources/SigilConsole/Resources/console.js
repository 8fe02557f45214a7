// Progressive enhancement only: every page works without this script. Each part acts on
// elements marked with its own data- attribute, so pages that do not use them are untouched.
(function () {
  "use strict";

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key in node && key !== "form" && key !== "list") node[key] = props[key];
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function labelled(id, text, control) {
    return el("div", { className: "field" }, [el("label", { htmlFor: id, text: text }), control]);
  }

  function options(select, items, placeholder) {
    select.textContent = "";
    if (placeholder !== undefined) select.appendChild(el("option", { value: "", text: placeholder }));
    items.forEach(function (item) { select.appendChild(el("option", { value: item.value, text: item.text })); });
  }

  function parseData(node, name, fallback) {
    try { return JSON.parse(node.getAttribute(name) || ""); } catch (e) { return fallback; }
  }

  // Multi-value editors of the step-by-step pages: "Add another value" and "Remove".
  function multiValue(set) {
    function removable(row) {
      var button = el("button", { type: "button", text: "Remove" });
      button.addEventListener("click", function () { row.remove(); });
      row.appendChild(button);
    }
    set.querySelectorAll(".value-row").forEach(removable);
    var add = el("button", { type: "button", text: "Add another value" });
    add.addEventListener("click", function () {
      var rows = set.querySelectorAll(".value-row");
      var row = rows[rows.length - 1].cloneNode(true);
      var input = row.querySelector("input");
      var n = rows.length + 1;
      input.value = ""; input.id = "value-" + n;
      row.querySelector("label").htmlFor = input.id; row.querySelector("label").textContent = "Value " + n;
      row.querySelector("button").remove(); removable(row);
      set.insertBefore(row, add); input.focus();
    });
    set.appendChild(add);
  }

  // The value control a definition needs: check boxes or a list of predefined values, True/False,
  // a number or text box, or several boxes for a multi-valued attribute. `owner` is the form id
  // the controls post with (they may sit in a table row outside that form).
  function valueControl(definition, key, held, owner) {
    var name = "value-" + key, id = "row-" + key + "-value";
    var common = owner ? { form: owner } : {};
    function withOwner(props) { return Object.assign({}, common, props); }
    if (definition.choices.length) {
      if (definition.multi) {
        var boxes = definition.choices.concat(held.filter(function (v) { return definition.choices.indexOf(v) < 0; }));
        return el("fieldset", { className: "choices" }, [el("legend", { text: "Assigned values" })].concat(boxes.map(function (choice, i) {
          var box = el("input", withOwner({ type: "checkbox", name: name, value: choice, id: id + "-" + (i + 1) }));
          box.checked = held.indexOf(choice) >= 0;
          return el("label", { className: "check", htmlFor: box.id }, [box, document.createTextNode(" " + choice)]);
        })));
      }
      var list = el("select", withOwner({ id: id, name: name }));
      options(list, definition.choices.map(function (c) { return { value: c, text: c }; }), "Select a value");
      list.value = held[0] || "";
      return labelled(id, "Assigned values", list);
    }
    if (definition.type === "Boolean") {
      var flag = el("select", withOwner({ id: id, name: name }));
      options(flag, [{ value: "True", text: "True" }, { value: "False", text: "False" }], "Select a value");
      flag.value = held[0] ? (held[0].toLowerCase() === "true" ? "True" : "False") : "";
      return labelled(id, "Assigned values", flag);
    }
    var type = definition.type === "Integer" ? "number" : "text";
    if (!definition.multi) {
      return labelled(id, "Assigned values", el("input", withOwner({ id: id, name: name, type: type, value: held[0] || "" })));
    }
    var box = el("fieldset", { className: "choices" }, [el("legend", { text: "Assigned values" })]);
    var count = 0;
    function addValue(value) {
      count += 1;
      var input = el("input", withOwner({ id: id + "-" + count, name: name, type: type, value: value || "" }));
      var row = el("div", { className: "value-row" }, [
        el("label", { className: "visually-hidden", htmlFor: input.id, text: "Value " + count }), input]);
      var remove = el("button", { type: "button", text: "Remove", "aria-label": "Remove value " + count });
      remove.addEventListener("click", function () { row.remove(); });
      row.appendChild(remove);
      box.insertBefore(row, more);
      return input;
    }
    var more = el("button", { type: "button", text: "Add another value" });
    more.addEventListener("click", function () { addValue("").focus(); });
    box.appendChild(more);
    (held.length ? held : [""]).forEach(addValue);
    return box;
  }

  function showError(container, key, message, controls) {
    var error = el("p", { className: "error", id: "row-" + key + "-error", text: message });
    container.appendChild(error);
    controls.forEach(function (control) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", error.id);
    });
  }

  // A user's or application's attributes: rows added in place, table rows edited in place,
  // one Save for all of them; Remove asks for confirmation first.
  function assignmentEditor(form) {
    var sets = parseData(form, "data-schema", []);
    var rowsBox = form.querySelector("[data-editor-rows]");
    var count = 0;
    function definitionOf(id) {
      for (var s = 0; s < sets.length; s++) {
        for (var a = 0; a < sets[s].attributes.length; a++) if (sets[s].attributes[a].id === id) return sets[s].attributes[a];
      }
      return null;
    }
    function setOf(id) {
      return sets.filter(function (s) { return s.attributes.some(function (a) { return a.id === id; }); })[0];
    }
    function addRow(prefill) {
      count += 1;
      var key = "n" + count;
      var row = el("fieldset", { className: "editor-row" }, [
        el("legend", { text: "Attribute " + count }), el("input", { type: "hidden", name: "row", value: key })]);
      var setSelect = el("select", { id: "row-" + key + "-set", name: "set-" + key, required: true });
      options(setSelect, sets.map(function (s) { return { value: s.id, text: s.id }; }), "Select an attribute set");
      var attributeSelect = el("select", { id: "row-" + key + "-attribute", name: "attribute-" + key, required: true });
      var slot = el("div", { className: "value-slot" });
      var fields = el("div", { className: "editor-fields" }, [
        labelled(setSelect.id, "Attribute set", setSelect), labelled(attributeSelect.id, "Attribute name", attributeSelect), slot]);
      row.appendChild(fields);
      var remove = el("button", { type: "button", text: "Remove row", "aria-label": "Remove attribute row " + count });
      remove.addEventListener("click", function () {
        row.remove();
        if (!rowsBox.children.length) close();
        else rowsBox.querySelector("select").focus();
      });
      row.appendChild(remove);
      function fillAttributes() {
        var set = sets.filter(function (s) { return s.id === setSelect.value; })[0];
        options(attributeSelect, set ? set.attributes.map(function (a) { return { value: a.id, text: a.name }; }) : [],
          set ? "Select an attribute" : "Select an attribute set first");
        slot.textContent = "";
      }
      function fillValue(held) {
        slot.textContent = "";
        var definition = definitionOf(attributeSelect.value);
        if (definition) slot.appendChild(valueControl(definition, key, held || definition.held, null));
      }
      setSelect.addEventListener("change", fillAttributes);
      attributeSelect.addEventListener("change", function () { fillValue(null); });
      rowsBox.appendChild(row);
      if (prefill) {
        var set = setOf(prefill.attribute);
        setSelect.value = set ? set.id : prefill.set || "";
        fillAttributes();
        attributeSelect.value = prefill.attribute;
        fillValue(prefill.values || []);
        var wrong = slot.querySelectorAll("select, input");
        if (prefill.error) showError(row, key, prefill.error, wrong.length ? Array.prototype.slice.call(wrong) : [attributeSelect]);
      } else {
        fillAttributes();
      }
      return row;
    }
    function open() { form.hidden = false; }
    function close() { rowsBox.textContent = ""; form.hidden = true; var add = document.querySelector("a[data-add-row]"); if (add) add.focus(); }
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        open();
        addRow(null).querySelector("select").focus();
      });
    });
    form.querySelector("[data-cancel]").addEventListener("click", close);
    form.addEventListener("submit", function (event) {
      // Nothing to save when every row was removed (an in-place edit posts from the table).
      if (!form.querySelector("input[name=row]") && !document.querySelector("input[name=row][form='" + form.id + "']")) {
        event.preventDefault();
      }
    });

    // Edit a table row in place: its values cell becomes the value control, Edit becomes Save.
    document.querySelectorAll("a[data-edit-row]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var tr = link.closest("tr"), definition = definitionOf(tr.getAttribute("data-attribute"));
        if (!definition) return;
        event.preventDefault();
        count += 1;
        var key = "e" + count, cell = tr.cells[tr.cells.length - 2], before = cell.innerHTML;
        cell.textContent = "";
        cell.appendChild(el("input", { type: "hidden", name: "row", value: key, form: form.id }));
        cell.appendChild(el("input", { type: "hidden", name: "attribute-" + key, value: definition.id, form: form.id }));
        cell.appendChild(valueControl(definition, key, definition.held, form.id));
        var actions = link.parentNode, save = el("button", { type: "submit", text: "Save", form: form.id, className: "primary" });
        var cancel = el("button", { type: "button", text: "Cancel" });
        link.hidden = true;
        actions.appendChild(save); actions.appendChild(cancel);
        cancel.addEventListener("click", function () {
          cell.innerHTML = before; save.remove(); cancel.remove(); link.hidden = false; link.focus();
        });
        var first = cell.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
      });
    });

    // After a refused Save the rows come back with their errors; focus goes to the first error.
    var posted = parseData(form, "data-rows", []);
    if (posted.length) {
      open();
      posted.forEach(addRow);
      var invalid = form.querySelector("[aria-invalid=true]");
      if (invalid) invalid.focus();
    }
  }

  // A modal question before `form` posts: `heading`, `text` (may be empty) and a Yes button
  // labelled `yes` that posts the form with confirmed=1; without `yes`, only OK, which closes it.
  function ask(form, heading, text, yes) {
    var dialog = el("dialog", { className: "confirm", "aria-labelledby": "confirm-heading" });
    dialog.appendChild(el("h2", { id: "confirm-heading", text: heading }));
    if (text) dialog.appendChild(el("p", { text: text }));
    var accept = yes ? el("button", { type: "button", className: "primary", text: yes }) : null;
    var no = el("button", { type: "button", text: yes ? "Cancel" : "OK" });
    dialog.appendChild(el("p", {}, accept ? [accept, document.createTextNode(" "), no] : [no]));
    document.body.appendChild(dialog);
    if (accept) {
      accept.addEventListener("click", function () {
        form.dataset.confirmed = "1";
        form.appendChild(el("input", { type: "hidden", name: "confirmed", value: "1" }));
        dialog.close();
        form.submit();
      });
    }
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    dialog.showModal();
    (accept || no).focus();
  }

  function confirmRemove(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.confirmed) return;
      event.preventDefault();
      var picked = form.querySelectorAll("input[name=attribute]:checked");
      var names = Array.prototype.map.call(picked, function (box) { return box.getAttribute("aria-label").replace(/^Select /, ""); });
      ask(form, picked.length ? "Remove " + picked.length + (picked.length === 1 ? " assignment?" : " assignments?") : "Select the rows to remove",
        names.join(", "), picked.length ? "Remove" : null);
    });
  }

  // Forms marked data-confirm (Delete policy) ask in a dialog first; without the script the
  // server asks on a page of its own.
  function confirmForm(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.confirmed) return;
      event.preventDefault();
      ask(form, form.getAttribute("data-confirm"), form.getAttribute("data-confirm-text"), form.getAttribute("data-confirm-yes"));
    });
  }

  // An attribute list grouped by set: only `setId`'s group when one is chosen. The choice is kept
  // when it is still offered.
  function groupedAttributes(select, sets, setId) {
    var keep = select.value;
    select.textContent = "";
    select.appendChild(el("option", { value: "", text: "Select an attribute" }));
    sets.filter(function (s) { return !setId || s.id === setId; }).forEach(function (s) {
      var group = el("optgroup", { label: s.id });
      s.attributes.forEach(function (a) { group.appendChild(el("option", { value: a.id, text: a.name })); });
      select.appendChild(group);
    });
    select.value = keep;
    if (select.value !== keep) select.value = "";
  }

  // A copy of a builder row numbered `n`: ids, labels and numbered names follow, values are
  // cleared, and a Remove button (focus goes back to `after`) replaces any the row had.
  function cloneRow(template, n, legend, after) {
    var row = template.cloneNode(true);
    row.querySelector("legend").textContent = legend;
    row.querySelectorAll("[id]").forEach(function (node) { node.id = node.id.replace(/-\d+$/, "-" + n); });
    row.querySelectorAll("label[for]").forEach(function (node) { node.htmlFor = node.htmlFor.replace(/-\d+$/, "-" + n); });
    row.querySelectorAll("[name]").forEach(function (node) { node.name = node.name.replace(/-\d+$/, "-" + n); });
    row.querySelectorAll("[aria-describedby]").forEach(function (node) { node.removeAttribute("aria-describedby"); });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    row.querySelectorAll("input:not([type=hidden])").forEach(function (input) { input.value = ""; });
    row.querySelectorAll("button").forEach(function (button) { button.remove(); });
    var remove = el("button", { type: "button", text: "Remove " + legend.toLowerCase() });
    remove.addEventListener("click", function () { row.remove(); after.dispatchEvent(new Event("rowremoved", { bubbles: true })); after.focus(); });
    row.appendChild(remove);
    return row;
  }

  // The lists' filter pane: the attribute list follows the set, the value control follows the
  // attribute, and more rows can be added before one Apply.
  function filterPane(form) {
    var sets = parseData(form, "data-schema", []);
    var rowsBox = form.querySelector(".filter-rows");
    var count = rowsBox.querySelectorAll("[data-filter-row]").length;
    function find(id) {
      for (var s = 0; s < sets.length; s++) {
        for (var a = 0; a < sets[s].attributes.length; a++) if (sets[s].attributes[a].id === id) return sets[s].attributes[a];
      }
      return null;
    }
    function wire(row, n) {
      var setSelect = row.querySelector("[data-role=set]"), attribute = row.querySelector("[data-role=attribute]");
      var op = row.querySelector("[data-role=op]"), slot = row.querySelector("[data-role=value-slot]");
      function fillAttributes() {
        groupedAttributes(attribute, sets, setSelect.value);
        fillValue();
      }
      function fillValue() {
        var definition = find(attribute.value), old = slot.querySelector("[name=value]");
        var current = old ? old.value : "", id = "fvalue-" + n, control;
        if (definition && definition.choices.length) {
          control = el("select", { id: id, name: "value" });
          options(control, definition.choices.map(function (c) { return { value: c, text: c }; }), "Select a value");
          control.value = current;
        } else {
          control = el("input", { id: id, name: "value", type: definition && definition.type === "Integer" ? "number" : "text", value: current });
        }
        if (old) old.replaceWith(control); else slot.appendChild(control);
        var keep = op.value;
        options(op, [{ value: "eq", text: "==" }, { value: "ne", text: "!=" }].concat(
          !definition || definition.type === "String" ? [{ value: "startsWith", text: "starts with" }] : []));
        op.value = keep; if (op.value !== keep) op.value = "eq";
      }
      setSelect.addEventListener("change", fillAttributes);
      attribute.addEventListener("change", fillValue);
    }
    rowsBox.querySelectorAll("[data-filter-row]").forEach(function (row, i) { wire(row, i + 1); });
    var template = rowsBox.querySelector("[data-filter-row]");
    var add = el("button", { type: "button", text: "Add another filter" });
    add.addEventListener("click", function () {
      count += 1;
      var n = count, row = cloneRow(template, n, "Filter " + n, add);
      rowsBox.appendChild(row);
      wire(row, n);
      row.querySelector("[data-role=attribute]").dispatchEvent(new Event("change"));
      row.querySelector("[data-role=set]").dispatchEvent(new Event("change"));
      row.querySelector("select").focus();
    });
    rowsBox.parentNode.insertBefore(el("p", {}, [add]), rowsBox.nextSibling);
  }

  // The application filter builder of the policy form: the attribute list follows the set, more
  // rows can be added, and the rows write the rule text as they change. Typing in the rule text
  // turns the rows off (disabled controls are not posted), so what was typed is what is saved.
  function ruleBuilder(box) {
    var sets = parseData(box, "data-schema", []);
    var text = box.closest("form").querySelector("[data-rule-text]");
    var count = box.querySelectorAll("[data-rule-row]").length, rowsOff = false;
    function quoted(value) { return '"' + value.replace(/`/g, "``").replace(/"/g, '`"') + '"'; }
    function compose() {
      var parts = [];
      box.querySelectorAll("[data-rule-row]").forEach(function (row) {
        var attribute = row.querySelector("[data-role=attribute]").value, value = row.querySelector("[data-role=value]").value.trim();
        if (!attribute && !value) return;
        var op = row.querySelector("[data-role=op]").value, join = row.querySelector("[data-role=join]");
        var operand = /^-(not)?in$/i.test(op)
          ? "[" + value.split(",").map(function (v) { return v.trim(); }).filter(Boolean).map(quoted).join(", ") + "]"
          : quoted(value);
        parts.push((parts.length ? (join ? join.value : "-and") + " " : "") + "CustomSecurityAttribute." + attribute + " " + op + " " + operand);
      });
      return parts.join(" ");
    }
    function sync() { if (!rowsOff && text) text.value = compose(); }
    function wire(row) {
      var setSelect = row.querySelector("[data-role=set]"), attribute = row.querySelector("[data-role=attribute]");
      setSelect.addEventListener("change", function () { groupedAttributes(attribute, sets, setSelect.value); sync(); });
    }
    box.querySelectorAll("[data-rule-row]").forEach(wire);
    box.addEventListener("change", sync);
    box.addEventListener("input", sync);
    box.addEventListener("rowremoved", sync);
    var add = el("button", { type: "button", text: "Add another condition" });
    add.addEventListener("click", function () {
      var rows = box.querySelectorAll("[data-rule-row]");
      count += 1;
      var row = cloneRow(rows[rows.length - 1], count, "Condition " + count, add);
      row.querySelector("input[name=frow]").value = String(count);
      box.appendChild(row);
      wire(row);
      row.querySelector("[data-role=set]").dispatchEvent(new Event("change"));
      row.querySelector("select").focus();
    });
    var note = el("p", { className: "muted", "aria-live": "polite" });
    var useRows = el("button", { type: "button", text: "Use the rows again" });
    useRows.hidden = true;
    function switchRows(on) {
      rowsOff = !on;
      box.querySelectorAll("select, input, button").forEach(function (control) { control.disabled = !on; });
      add.disabled = !on;
      useRows.hidden = on;
      note.textContent = on ? "" : "The rows are off: the rule text is saved as typed.";
    }
    useRows.addEventListener("click", function () { switchRows(true); sync(); add.focus(); });
    if (text) text.addEventListener("input", function () { if (!rowsOff) switchRows(false); });
    box.parentNode.insertBefore(el("p", {}, [add, document.createTextNode(" "), useRows]), box.nextSibling);
    box.parentNode.insertBefore(note, add.parentNode.nextSibling);
  }

  // Forms marked data-inplace (a definition's predefined values) post without leaving the page:
  // the answer's main content replaces this one, and focus returns to the same control.
  function inPlace(root) {
    root.querySelectorAll("form[data-inplace]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var submitter = event.submitter, label = submitter ? submitter.textContent : "";
        var body = new URLSearchParams(new FormData(form));
        fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
          return response.text().then(function (html) {
            var next = new DOMParser().parseFromString(html, "text/html").querySelector("main");
            if (!next) { window.location.reload(); return; }
            var main = document.querySelector("main");
            main.innerHTML = next.innerHTML;
            inPlace(main);
            var target = Array.prototype.filter.call(main.querySelectorAll("button"), function (b) {
              return b.textContent === label || b.textContent.split(" ").slice(1).join(" ") === label.split(" ").slice(1).join(" ");
            })[0] || main.querySelector("[role=alert], [role=status]") || main.querySelector("h1");
            if (target) { if (!target.matches("button")) target.tabIndex = -1; target.focus(); }
          });
        }, function () { form.submit(); });
      });
    });
  }

  // A table that scrolls sideways (narrow screens) and holds nothing focusable can be scrolled
  // from the keyboard.
  function scrollable() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth && !wrap.hasAttribute("tabindex") && !wrap.querySelector("a, button, input, select")) {
        wrap.tabIndex = 0; wrap.setAttribute("role", "region"); wrap.setAttribute("aria-label", "Table, scrolls sideways");
      }
    });
  }

  document.querySelectorAll("[data-multi]").forEach(multiValue);
  scrollable();
  document.querySelectorAll("form[data-assign-editor]").forEach(assignmentEditor);
  document.querySelectorAll("form[data-confirm-remove]").forEach(confirmRemove);
  document.querySelectorAll("form[data-confirm]").forEach(confirmForm);
  document.querySelectorAll("form[data-filter-pane]").forEach(filterPane);
  document.querySelectorAll("[data-rule-builder]").forEach(ruleBuilder);
  inPlace(document);
})();
