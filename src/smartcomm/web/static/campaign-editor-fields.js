// smartcomm campaign canvas: the side panel's form of a node's settings, built from its kind's fields (the
// palette entry's `fields`, read by the server off the kind's settings model). Plain JSON types become inputs;
// fields the product knows get their own widget: the segment builder (rules), the template picker with a
// preview, selects of segments, audiences, polls, mailing categories and of the graph's own nodes.
// campaign-editor.js creates it with what the form needs of the canvas (`api`).
(function () {
  "use strict";

  window.smartcommCanvasForm = function (api) {
    var config = api.config, T = api.texts, kinds = api.kinds;
    var $ = api.$, el = api.el, icon = api.icon, send = api.send, formatNumber = api.formatNumber;
    var nodeData = api.nodeData, kindOf = api.kindOf, setting = api.setting;
    var problemsOf = api.problemsOf, panelProblems = api.panelProblems;

    function buildForm(id) {
      var form = $("node-form"), data = nodeData(id), kind = kinds[data.kind];
      form.textContent = "";
      if (!kind) { return; }
      kind.fields.forEach(function (spec) {
        var field = el("div", { className: "sc-field mb-3", "data-field": spec.name });
        if (spec.widget !== "switch") {
          field.appendChild(el("label", { className: "form-label" + (spec.required ? " required" : ""), "for": "f-" + spec.name, text: spec.label }));
        }
        field.appendChild(widget(id, spec, data.settings));
        if (spec.hint) { field.appendChild(el("div", { className: "form-hint", text: spec.hint })); }
        field.appendChild(el("div", { className: "invalid-feedback d-block", "data-field-error": spec.name, hidden: "hidden" }));
        form.appendChild(field);
      });
      form.querySelectorAll("input, select, textarea, button").forEach(function (input) {
        if (config.readOnly) { input.disabled = true; }
      });
      showDependent(id);
      panelProblems(id);
    }

    function showDependent(id) {
      var data = nodeData(id), kind = kinds[data.kind];
      kind.fields.forEach(function (spec) {
        if (!spec.shown_when) { return; }
        var field = document.querySelector('#node-form [data-field="' + spec.name + '"]');
        if (field) { field.hidden = !data.settings[spec.shown_when]; }
      });
    }


    function widget(id, spec, settings) {
      var value = settings[spec.name];
      var build = WIDGETS[spec.widget] || WIDGETS.json;
      return build(id, spec, value);
    }

    function plainInput(type) {
      return function (id, spec, value) {
        var input = el("input", {
          type: type, className: "form-control", id: "f-" + spec.name, name: spec.name,
          min: spec.min, max: spec.max, step: spec.step || (type === "number" ? "any" : null), maxlength: spec.max_length
        });
        input.value = value === undefined || value === null ? "" : String(value).slice(0, type === "datetime-local" ? 16 : undefined);
        input.addEventListener("input", function () {
          var text = input.value.trim();
          if (text === "") { setting(id, spec.name, undefined); return; }
          if (type === "number") {
            var number = Number(text);
            setting(id, spec.name, isNaN(number) ? text : number);
          } else {
            setting(id, spec.name, text);
          }
        });
        return input;
      };
    }

    function selectInput(id, spec, value, options, emptyLabel) {
      var select = el("select", { className: "form-select", id: "f-" + spec.name, name: spec.name });
      if (emptyLabel !== null) { select.appendChild(el("option", { value: "", text: emptyLabel })); }
      options.forEach(function (option) {
        var item = el("option", { value: String(option.value), text: option.label });
        if (value !== undefined && value !== null && String(value) === String(option.value)) { item.selected = true; }
        select.appendChild(item);
      });
      return select;
    }

    function choiceWidget(list, emptyKey) {
      return function (id, spec, value) {
        var options = (config.choices[list] || []).map(function (c) {
          return { value: c.id, label: c.count !== undefined ? c.label + " · " + formatNumber(c.count) : c.label };
        });
        if (value !== undefined && value !== null && !options.some(function (o) { return String(o.value) === String(value); })) {
          options.push({ value: value, label: "#" + value });
        }
        var select = selectInput(id, spec, value, options, T[emptyKey]);
        select.addEventListener("change", function () {
          setting(id, spec.name, select.value === "" ? undefined : parseInt(select.value, 10));
        });
        return select;
      };
    }

    function enumWidget(id, spec, value) {
      var current = value === undefined ? spec.default : value;
      var select = selectInput(id, spec, current, spec.options || [], spec.nullable || spec.default === undefined ? T.none : null);
      select.addEventListener("change", function () {
        var option = (spec.options || []).filter(function (o) { return String(o.value) === select.value; })[0];
        setting(id, spec.name, option ? option.value : undefined);
      });
      return select;
    }

    function hourWidget(id, spec, value) {
      var hours = [];
      for (var h = 0; h < 24; h += 1) { hours.push({ value: h, label: T.hour.replace("%(hour)s", (h < 10 ? "0" : "") + h) }); }
      var current = value === undefined ? spec.default : value;
      var select = selectInput(id, spec, current, hours, null);
      select.addEventListener("change", function () { setting(id, spec.name, parseInt(select.value, 10)); });
      return select;
    }

    function switchWidget(id, spec, value) {
      var input = el("input", { type: "checkbox", className: "form-check-input", id: "f-" + spec.name, name: spec.name });
      input.checked = value === undefined ? !!spec.default : !!value;
      input.addEventListener("change", function () { setting(id, spec.name, input.checked); });
      return el("label", { className: "form-check form-switch" }, [input, el("span", { className: "form-check-label", text: spec.label })]);
    }

    function tagsWidget(id, spec, value) {
      var input = el("input", { type: "text", className: "form-control", id: "f-" + spec.name, name: spec.name, placeholder: T.tags_hint });
      input.value = Array.isArray(value) ? value.join(", ") : "";
      input.addEventListener("input", function () {
        var items = input.value.split(",").map(function (item) { return item.trim(); }).filter(Boolean);
        if (spec.item_type === "integer") {
          items = items.map(function (item) { return /^-?\d+$/.test(item) ? parseInt(item, 10) : item; });
        }
        setting(id, spec.name, items.length ? items : undefined);
      });
      return input;
    }

    function pairsWidget(id, spec, value) {
      var box = el("div", { className: "sc-pairs", id: "f-" + spec.name });
      var rows = Object.keys(value || {}).map(function (key) { return { key: key, value: value[key] }; });
      var write = function () {
        var out = {};
        rows.forEach(function (row) { if (row.key.trim()) { out[row.key.trim()] = row.value; } });
        setting(id, spec.name, Object.keys(out).length ? out : undefined);
      };
      var draw = function () {
        box.textContent = "";
        rows.forEach(function (row, index) {
          var key = el("input", { type: "text", className: "form-control form-control-sm", placeholder: T.key, "aria-label": T.key });
          var val = el("input", { type: "text", className: "form-control form-control-sm", placeholder: T.value, "aria-label": T.value });
          key.value = row.key; val.value = row.value;
          key.addEventListener("input", function () { row.key = key.value; write(); });
          val.addEventListener("input", function () { row.value = val.value; write(); });
          var remove = el("button", { type: "button", className: "btn btn-sm btn-ghost-secondary btn-icon", "aria-label": T.remove, title: T.remove }, [icon("ti-x")]);
          remove.addEventListener("click", function () { rows.splice(index, 1); write(); draw(); });
          box.appendChild(el("div", { className: "input-group input-group-sm mb-1" }, [key, val, remove]));
        });
        var add = el("button", { type: "button", className: "btn btn-sm btn-ghost-primary" }, [icon("ti-plus me-1"), document.createTextNode(T.add_value)]);
        add.addEventListener("click", function () { rows.push({ key: "", value: "" }); draw(); });
        box.appendChild(add);
        if (config.readOnly) { box.querySelectorAll("input, button").forEach(function (b) { b.disabled = true; }); }
      };
      draw();
      return box;
    }

    function jsonWidget(id, spec, value) {
      var area = el("textarea", { className: "form-control font-monospace", rows: "4", id: "f-" + spec.name, name: spec.name, placeholder: T.json_hint });
      area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      area.addEventListener("input", function () {
        if (!area.value.trim()) { area.classList.remove("is-invalid"); setting(id, spec.name, undefined); return; }
        try {
          var parsed = JSON.parse(area.value);
          area.classList.remove("is-invalid");
          setting(id, spec.name, parsed);
        } catch (error) { area.classList.add("is-invalid"); }
      });
      return area;
    }

    // The template picker: the channel's templates (latest versions, and the one chosen), with its preview.
    function templateWidget(id, spec, value) {
      var data = nodeData(id);
      var channel = spec.name === "template_version_id" && data.settings.viber_cascade ? "viber" : spec.channel;
      var templates = config.choices.templates.filter(function (t) { return !channel || t.channel === channel; });
      var box = el("div", { className: "sc-template-picker" });
      if (!templates.length) { box.appendChild(el("div", { className: "text-secondary small", text: T.no_templates })); }
      var options = templates.map(function (t) { return { value: t.id, label: t.label + (t.subject ? " — " + t.subject : "") }; });
      var select = selectInput(id, spec, value, options, T.choose_template);
      var preview = el("div", { className: "sc-template-preview" });
      var draw = function () {
        preview.textContent = "";
        var chosen = templates.filter(function (t) { return String(t.id) === select.value; })[0];
        if (!chosen) { preview.hidden = true; return; }
        preview.hidden = false;
        var frame = el("iframe", {
          src: "/templates/" + chosen.template + "/preview/frame?version=" + chosen.number, sandbox: "",
          loading: "lazy", title: T.preview, className: "sc-template-frame sc-channel-" + chosen.channel
        });
        var newer = templates.filter(function (t) { return t.template === chosen.template && t.latest && t.id !== chosen.id; })[0];
        preview.appendChild(el("div", { className: "sc-template-frame-box" }, [frame]));
        var links = el("div", { className: "d-flex align-items-center gap-2 mt-1 small" });
        links.appendChild(el("a", { href: "/templates/" + chosen.template + "/preview?version=" + chosen.number, target: "_blank", rel: "noopener" },
          [icon("ti-external-link me-1"), document.createTextNode(T.open_template)]));
        if (newer) { links.appendChild(el("span", { className: "text-warning", text: T.newer_version.replace("%(number)s", newer.number) })); }
        preview.appendChild(links);
      };
      select.addEventListener("change", function () {
        setting(id, spec.name, select.value === "" ? undefined : parseInt(select.value, 10));
        draw();
      });
      box.appendChild(select);
      box.appendChild(preview);
      draw();
      return box;
    }

    // The Filter node's rules: the segment builder, drawn by the server and run by Alpine (segments.js).
    function rulesWidget(id, spec, value) {
      var box = el("div", { className: "sc-rules", id: "f-" + spec.name }, [el("div", { className: "text-secondary small", text: T.loading })]);
      var prefix = "nodes." + id + ".settings." + spec.name + ".";
      var errors = {};
      problemsOf(id).forEach(function (p) { if (p.field.indexOf(prefix) === 0) { errors[p.field.slice(prefix.length)] = p.message; } });
      send("POST", "/campaigns/rules-builder", { rules: value || {}, errors: errors }).then(function (answer) {
        if (api.selected() !== id || !box.isConnected) { return; }
        box.innerHTML = typeof answer.data === "string" ? answer.data : "";
        if (window.htmx) { window.htmx.process(box); }
        var builder = $("node-rules");
        if (!builder) { return; }
        builder.addEventListener("rules-changed", function () {
          var rules = readRules(builder);
          if (rules) { setting(id, spec.name, rules); }
        });
      });
      return box;
    }

    function readRules(builder) {
      try {
        var state = window.Alpine && window.Alpine.$data ? window.Alpine.$data(builder) : null;
        if (state && state.json) { return JSON.parse(state.json); }
        return JSON.parse($("node-rules-rules").value);
      } catch (error) { return null; }
    }

    // A field naming another node of the graph (the filter a "refresh filter" re-applies…).
    function nodeWidget(id, spec, value) {
      var options = api.nodeIds().filter(function (other) {
        var data = nodeData(other);
        return other !== id && data && (!spec.node_kinds || spec.node_kinds.indexOf(data.kind) !== -1);
      }).map(function (other) {
        var kind = kindOf(other), line = api.summary(other);
        return { value: other, label: (kind ? kind.label : other) + (line ? " · " + line : "") + " (" + other + ")" };
      });
      if (value && !options.some(function (o) { return o.value === value; })) { options.push({ value: value, label: String(value) }); }
      var select = selectInput(id, spec, value, options, T.none);
      select.addEventListener("change", function () { setting(id, spec.name, select.value || undefined); });
      return select;
    }

    // "Action worked": the campaign to watch, then one of its nodes — fetched once the campaign is chosen,
    // and again whenever another one is.
    function campaignWidget(id, spec, value) {
      var select = choiceWidget("campaigns", "none")(id, spec, value);
      select.addEventListener("change", function () {
        setting(id, "node", undefined);  // a node of the campaign chosen before
        fillWatchedNodes(id, undefined);
      });
      return select;
    }

    function watchedNodeWidget(id, spec, value) {
      var select = selectInput(id, spec, value, value ? [{ value: value, label: String(value) }] : [], T.none);
      select.addEventListener("change", function () { setting(id, spec.name, select.value || undefined); });
      window.setTimeout(function () { fillWatchedNodes(id, value); }, 0);
      return select;
    }

    function fillWatchedNodes(id, value) {
      var select = $("f-node"), data = nodeData(id);
      if (!select || !data) { return; }
      var campaign = data.settings.campaign_id;
      if (!campaign) {
        select.replaceChildren(el("option", { value: "", text: T.choose_campaign_first }));
        return;
      }
      send("GET", "/campaigns/" + campaign + "/nodes").then(function (answer) {
        if (!answer.ok || $("f-node") !== select) { return; }
        var options = answer.data.nodes.map(function (n) { return { value: n.id, label: n.label + " (" + n.id + ")" }; });
        if (value && !options.some(function (o) { return o.value === value; })) { options.push({ value: value, label: String(value) }); }
        var filled = selectInput(id, { name: "node" }, value, options, T.none);
        select.replaceChildren.apply(select, Array.prototype.slice.call(filled.children));
      });
    }

    var WIDGETS = {
      node: nodeWidget,
      number: plainInput("number"),
      text: plainInput("text"),
      date: plainInput("date"),
      datetime: plainInput("datetime-local"),
      time: plainInput("time"),
      select: enumWidget,
      hour: hourWidget,
      "switch": switchWidget,
      tags: tagsWidget,
      pairs: pairsWidget,
      json: jsonWidget,
      template: templateWidget,
      rules: rulesWidget,
      segment: choiceWidget("segments", "every_customer"),
      audience: choiceWidget("audiences", "none"),
      poll: choiceWidget("polls", "none"),
      category: choiceWidget("categories", "none"),
      campaign: campaignWidget,
      watched_node: watchedNodeWidget
    };

    return { build: buildForm, showDependent: showDependent };
  };
})();
