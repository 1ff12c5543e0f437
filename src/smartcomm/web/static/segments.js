// smartcomm segment builder: an Alpine.js component editing a rule tree (groups with AND/OR, nesting,
// negation; conditions with operators, values and parameters). The tree is kept as JSON in a hidden
// field; every change fires "rules-changed" on the builder so htmx can ask the server for a live count.
// The pages run Alpine's CSP build (no eval): components are registered with Alpine.data, and what an
// attribute cannot say in its small expression language (arrow functions, globals) is a method here.
(function () {
  "use strict";

  var VALUELESS = ["empty", "not_empty", "is_true", "is_false"];
  var LISTS = ["in", "not_in"];
  var SPANS = ["in_last", "not_in_last"];
  var NUMERIC = ["integer", "number", "money"];
  var TEMPORAL = ["date", "datetime"];
  // The operator a new condition starts with, per value type.
  var DEFAULT_OPERATOR = {
    string: "eq", integer: "gte", number: "gte", money: "gte", date: "in_last", datetime: "in_last",
    boolean: "is_true", "enum": "in"
  };
  var TYPE_ICONS = {
    string: "ti-abc", integer: "ti-hash", number: "ti-decimal", money: "ti-coin", date: "ti-calendar",
    datetime: "ti-calendar-time", boolean: "ti-toggle-right", "enum": "ti-list-check"
  };
  var FAMILY_ICONS = {
    profile: "ti-user", custom: "ti-forms", contacts: "ti-address-book", consent: "ti-shield-check",
    purchases: "ti-shopping-cart", events: "ti-bolt", web: "ti-world", containers: "ti-basket",
    audiences: "ti-tags", segments: "ti-chart-pie", rfm: "ti-chart-dots", communications: "ti-mail",
    promocodes: "ti-ticket", polls: "ti-checklist", orders: "ti-package", bonuses: "ti-coins",
    campaigns: "ti-route"
  };
  // Parameters named inside a poll: what their pickers offer, and their names, depend on the poll (and the
  // question) chosen beside them.
  var SCOPES = { poll_question: ["poll"], poll_row: ["poll", "question"], poll_option: ["poll", "question"] };
  // Parameters holding several values, as ids separated by commas (any of them matches).
  var MULTIPLE = ["poll_option"];
  var nextUid = 1;

  function uid() { nextUid += 1; return "n" + nextUid; }

  function has(list, item) { return list.indexOf(item) !== -1; }

  function blank(value) { return value === undefined || value === null || String(value).trim() === ""; }

  function normalise(text) { return String(text || "").toLocaleLowerCase(); }

  // ---- loading stored rules into editable nodes, and back ------------------------------------------------

  function loadNode(node) {
    if (node && (node.type === "group" || Array.isArray(node.children))) {
      return {
        uid: uid(), type: "group", op: node.op === "or" ? "or" : "and", negate: !!node.negate,
        children: (node.children || []).map(loadNode)
      };
    }
    node = node || {};
    return {
      uid: uid(), type: "condition", metric: node.metric || "", operator: node.operator || "",
      value: loadValue(node.operator, node.value), params: loadParams(node.params || {}), negate: !!node.negate
    };
  }

  function loadValue(operator, value) {
    if (has(SPANS, operator)) {
      var span = value && typeof value === "object" ? value : { n: value, unit: "days" };
      return { n: blank(span.n) ? "" : String(span.n), unit: span.unit === "months" ? "months" : "days" };
    }
    if (operator === "between") {
      var pair = Array.isArray(value) ? value : [];
      return [blank(pair[0]) ? "" : String(pair[0]), blank(pair[1]) ? "" : String(pair[1])];
    }
    if (has(LISTS, operator)) {
      return (Array.isArray(value) ? value : blank(value) ? [] : [value]).map(String);
    }
    return blank(value) ? "" : String(value);
  }

  function loadParams(params) {
    var loaded = {};
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (name === "period") {
        loaded.period = loadPeriod(value);
      } else if (name === "context") {
        loaded.context = (Array.isArray(value) ? value : [value]).filter(Boolean).map(function (pair) {
          return { key: String(pair.key || ""), value: blank(pair.value) ? "" : String(pair.value) };
        });
      } else {
        loaded[name] = blank(value) ? "" : String(value);
      }
    });
    return loaded;
  }

  function loadPeriod(value) {
    var period = value || {};
    return {
      kind: period.kind || "all", n: blank(period.n) ? "" : String(period.n),
      unit: period.unit === "months" ? "months" : "days", start: period.start || "", end: period.end || ""
    };
  }

  function dumpGroup(group, builder) {
    var out = { type: "group", op: group.op, negate: group.negate, children: [] };
    group.children.forEach(function (child) {
      out.children.push(child.type === "group" ? dumpGroup(child, builder) : dumpCondition(child, builder));
    });
    return out;
  }

  function dumpCondition(node, builder) {
    var metric = builder.metrics[node.metric];
    var out = { type: "condition", metric: node.metric, operator: node.operator };
    if (!has(VALUELESS, node.operator)) { out.value = dumpValue(node, metric); }
    var params = {};
    ((metric && metric.params) || []).forEach(function (spec) {
      var value = dumpParam(spec, node.params[spec.name]);
      if (value !== undefined) { params[spec.name] = value; }
    });
    if (Object.keys(params).length) { out.params = params; }
    if (node.negate) { out.negate = true; }
    return out;
  }

  function dumpValue(node, metric) {
    var type = metric ? metric.value_type : "string";
    var value = node.value;
    if (has(SPANS, node.operator)) {
      var n = parseInt(value && value.n, 10);
      return { n: isNaN(n) ? (value && value.n) || null : n, unit: (value && value.unit) || "days" };
    }
    if (Array.isArray(value)) { return value.map(function (item) { return typed(type, item); }); }
    return typed(type, value);
  }

  function typed(type, value) {
    if (type === "integer" && /^-?\d+$/.test(String(value).trim())) { return parseInt(value, 10); }
    return blank(value) ? null : String(value).trim();
  }

  function dumpParam(spec, value) {
    if (spec.kind === "period") {
      if (!value || value.kind === "all") { return undefined; }
      if (value.kind === "last") {
        var n = parseInt(value.n, 10);
        return { kind: "last", n: isNaN(n) ? null : n, unit: value.unit };
      }
      return { kind: "between", start: value.start || null, end: value.end || null };
    }
    if (spec.kind === "context") {
      var pairs = (value || []).filter(function (pair) { return !blank(pair.key); });
      return pairs.length ? pairs.map(function (pair) { return { key: pair.key.trim(), value: pair.value }; }) : undefined;
    }
    return blank(value) ? undefined : String(value).trim();
  }

  // Stored rules leave out parameters at their defaults; the widgets need every one of them.
  function completeParams(group, metrics) {
    group.children.forEach(function (child) {
      if (child.type === "group") { completeParams(child, metrics); return; }
      var metric = metrics[child.metric];
      ((metric && metric.params) || []).forEach(function (spec) {
        if (child.params[spec.name] === undefined) { child.params[spec.name] = emptyParam(spec); }
      });
    });
  }

  function emptyParam(spec) {
    if (spec.kind === "period") { return { kind: "all", n: "30", unit: "days", start: "", end: "" }; }
    if (spec.kind === "context") { return []; }
    if (spec.kind === "channel") { return spec.required ? "email" : ""; }
    return "";
  }

  // ---- the component -------------------------------------------------------------------------------------

  function segmentBuilder(configId) {
    var config = JSON.parse(document.getElementById(configId).textContent);
    var metrics = {};
    config.catalogue.forEach(function (metric) { metrics[metric.key] = metric; });
    var root = loadNode((config.rules && config.rules.root) || { type: "group", children: [] });
    root.type = "group";
    completeParams(root, metrics);

    return {
      id: config.id,
      texts: config.texts,
      currency: config.currency,
      channels: config.channels || [],
      catalogue: config.catalogue,
      metrics: metrics,
      tree: root,
      labels: config.labels || {},
      errors: config.errors || {},
      open: { uid: null, slot: null },
      search: "",
      highlight: 0,
      options: [],
      lookupNode: null,
      loading: false,
      maxDepth: config.maxDepth || 6,

      init: function () {
        var self = this;
        this.$watch("json", function () {
          self.$root.dispatchEvent(new CustomEvent("rules-changed", { bubbles: true }));
        });
      },

      get json() { return JSON.stringify({ version: 1, root: dumpGroup(this.tree, this) }); },

      get count() { return this.countConditions(this.tree); },

      countConditions: function (group) {
        var self = this;
        return group.children.reduce(function (total, child) {
          return total + (child.type === "group" ? self.countConditions(child) : 1);
        }, 0);
      },

      // One row per nested group header, condition and group footer, in reading order. `level` is how
      // many groups below the root contain the row (it sets the indentation and the rails).
      get rows() {
        var rows = [];
        var walk = function (group, path, level) {
          group.children.forEach(function (child, index) {
            var childPath = path + ".children[" + index + "]";
            var base = { node: child, parent: group, index: index, path: childPath, level: level };
            if (child.type === "group") {
              rows.push(Object.assign({ kind: "open", key: child.uid + ":open" }, base));
              walk(child, childPath, level + 1);
              rows.push(Object.assign({ kind: "close", key: child.uid + ":close" }, base, { level: level + 1 }));
            } else {
              rows.push(Object.assign({ kind: "condition", key: child.uid }, base));
            }
          });
        };
        walk(this.tree, "root", 0);
        return rows;
      },

      levels: function (row) {
        var levels = [];
        for (var i = 0; i < row.level; i += 1) { levels.push(i); }
        return levels;
      },

      depthOf: function (path) { return (path.match(/children/g) || []).length; },

      // ---- structure

      newCondition: function () {
        return { uid: uid(), type: "condition", metric: "", operator: "", value: "", params: {}, negate: false };
      },

      addCondition: function (group) {
        var condition = this.newCondition();
        group.children.push(condition);
        this.openLater(condition);
      },

      addGroup: function (group) {
        var condition = this.newCondition();
        group.children.push({ uid: uid(), type: "group", op: group.op === "and" ? "or" : "and", negate: false, children: [condition] });
        this.openLater(condition);
      },

      // The click that added the row is still on its way up: opening now would let it close the picker.
      openLater: function (node) {
        var self = this;
        setTimeout(function () { self.openPicker(node); }, 0);
      },

      remove: function (row) {
        row.parent.children.splice(row.index, 1);
        this.errors = {};
      },

      toggleOp: function (group) { group.op = group.op === "and" ? "or" : "and"; },

      // ---- the attribute picker

      openPicker: function (node) {
        this.open = { uid: node.uid, slot: "metric" };
        this.search = "";
        this.highlight = 0;
      },

      isOpen: function (node, slot) { return this.open.uid === node.uid && this.open.slot === slot; },

      close: function () { this.open = { uid: null, slot: null }; this.options = []; },

      // Metrics whose name or group contains every typed word, grouped in catalogue order.
      get found() {
        var words = normalise(this.search).split(/\s+/).filter(Boolean);
        var groups = [];
        var byName = {};
        var position = 0;
        this.catalogue.forEach(function (metric) {
          var haystack = normalise(metric.label + " " + metric.group);
          if (!words.every(function (word) { return haystack.indexOf(word) !== -1; })) { return; }
          if (!byName[metric.group]) {
            byName[metric.group] = { name: metric.group, icon: FAMILY_ICONS[metric.key.split(".")[0]] || "ti-point", items: [] };
            groups.push(byName[metric.group]);
          }
          byName[metric.group].items.push({ metric: metric, position: position });
          position += 1;
        });
        return { groups: groups, total: position };
      },

      pickerKey: function (event, node) {
        var total = this.found.total;
        if (event.key === "ArrowDown") { this.highlight = Math.min(this.highlight + 1, total - 1); event.preventDefault(); }
        if (event.key === "ArrowUp") { this.highlight = Math.max(this.highlight - 1, 0); event.preventDefault(); }
        if (event.key === "Escape") { this.close(); }
        if (event.key === "Enter") {
          event.preventDefault();
          var self = this;
          this.found.groups.forEach(function (group) {
            group.items.forEach(function (item) { if (item.position === self.highlight) { self.choose(node, item.metric); } });
          });
        }
      },

      choose: function (node, metric) {
        var previous = this.metrics[node.metric];
        node.metric = metric.key;
        if (!previous || previous.value_type !== metric.value_type || !has(metric.operators.map(function (o) { return o.key; }), node.operator)) {
          node.operator = DEFAULT_OPERATOR[metric.value_type] || metric.operators[0].key;
          node.value = this.emptyValue(node.operator);
        }
        var params = {};
        metric.params.forEach(function (spec) {
          var kept = node.params[spec.name];
          params[spec.name] = kept !== undefined ? kept : emptyParam(spec);
        });
        node.params = params;
        this.close();
      },

      emptyValue: function (operator) {
        if (has(SPANS, operator)) { return { n: "30", unit: "days" }; }
        if (operator === "between") { return ["", ""]; }
        if (has(LISTS, operator)) { return []; }
        return "";
      },

      emptyParam: emptyParam,

      setOperator: function (node, operator) {
        var before = node.operator;
        node.operator = operator;
        var shape = function (op) {
          return has(SPANS, op) ? "span" : op === "between" ? "pair" : has(LISTS, op) ? "list" : has(VALUELESS, op) ? "none" : "one";
        };
        if (shape(before) !== shape(operator)) {
          var carried = typeof node.value === "string" ? node.value : "";
          node.value = this.emptyValue(operator);
          if (shape(operator) === "one") { node.value = carried; }
        }
      },

      metricOf: function (node) { return this.metrics[node.metric] || null; },

      typeOf: function (node) { var metric = this.metricOf(node); return metric ? metric.value_type : ""; },

      typeIcon: function (metric) { return TYPE_ICONS[metric.value_type] || "ti-point"; },

      familyIcon: function (node) { return FAMILY_ICONS[(node.metric || "").split(".")[0]] || "ti-filter"; },

      widget: function (node) {
        var type = this.typeOf(node);
        var op = node.operator;
        if (!type || has(VALUELESS, op)) { return "none"; }
        if (has(SPANS, op)) { return "span"; }
        if (op === "between") { return has(TEMPORAL, type) ? "date-pair" : "number-pair"; }
        if (has(LISTS, op)) { return type === "enum" ? "choices" : "tags"; }
        if (has(TEMPORAL, type)) { return "date"; }
        if (has(NUMERIC, type)) { return type === "money" ? "money" : "number"; }
        return "text";
      },

      toggleChoice: function (node, value) {
        var at = node.value.indexOf(value);
        if (at === -1) { node.value.push(value); } else { node.value.splice(at, 1); }
      },

      addTag: function (node, event) {
        var text = event.target.value.replace(/,$/, "").trim();
        if (text && node.value.indexOf(text) === -1) { node.value.push(text); }
        event.target.value = "";
      },

      tagKey: function (node, event) {
        if (event.key === "Enter" || event.key === ",") { event.preventDefault(); this.addTag(node, event); }
        if (event.key === "Backspace" && !event.target.value && node.value.length) { node.value.pop(); }
      },

      // ---- parameter pickers (remote search)

      openLookup: function (node, spec) {
        this.lookupNode = node;
        this.open = { uid: node.uid, slot: "param:" + spec.name };
        this.search = "";
        this.highlight = 0;
        this.fetchOptions(spec);
      },

      fetchOptions: function (spec) {
        var self = this;
        var wanted = this.search;
        var slot = "param:" + spec.name;
        var uid = this.open.uid;
        // A search typed into a picker that has closed since (a quick pick) must not fill the next picker.
        if (this.open.slot !== slot) { return; }
        this.loading = true;
        var url = config.lookupUrl + spec.kind + "?q=" + encodeURIComponent(wanted) + this.scopeQuery(this.lookupNode, spec);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (options) {
            if (wanted !== self.search || self.open.slot !== slot || self.open.uid !== uid) { return; }
            self.options = options;
            self.loading = false;
          })
          .catch(function () { self.loading = false; self.options = []; });
      },

      scopeQuery: function (node, spec) {
        return (SCOPES[spec.kind] || []).map(function (name) {
          return "&" + name + "=" + encodeURIComponent((node && node.params[name]) || "");
        }).join("");
      },

      pick: function (node, spec, option) {
        var before = node.params[spec.name];
        node.params[spec.name] = has(MULTIPLE, spec.kind) ? this.toggled(before, option.value) : option.value;
        this.labels[this.labelKey(node, spec, option.value)] = option.label;
        if (before !== node.params[spec.name]) { this.clearDependents(node, spec.name); }
        this.close();
      },

      toggled: function (current, value) {
        var items = blank(current) ? [] : String(current).split(",");
        var at = items.indexOf(value);
        if (at === -1) { items.push(value); } else { items.splice(at, 1); }
        return items.join(",");
      },

      isChosen: function (node, spec, option) {
        var value = node.params[spec.name];
        return !blank(value) && String(value).split(",").indexOf(option.value) !== -1;
      },

      // A question belongs to its poll, options to their question: choosing another poll clears them.
      clearDependents: function (node, name) {
        var metric = this.metrics[node.metric];
        ((metric && metric.params) || []).forEach(function (spec) {
          if (has(SCOPES[spec.kind] || [], name)) { node.params[spec.name] = ""; }
        });
      },

      labelKey: function (node, spec, value) {
        var scope = (SCOPES[spec.kind] || []).map(function (name) { return node.params[name] || ""; });
        return spec.kind + ":" + scope.concat([value]).join("/");
      },

      pickFirst: function (node, spec) {
        var typed = this.freeText(spec);
        if (typed) { this.pick(node, spec, { value: typed, label: typed }); return; }
        if (this.options.length) { this.pick(node, spec, this.options[0]); }
      },

      freeText: function (spec) {
        // Event names are open: any name may be used before the first such event arrives.
        var typed = this.search.trim();
        if (spec.kind !== "event" || !typed) { return null; }
        var known = this.options.some(function (option) { return option.value === typed; });
        return known ? null : typed;
      },

      paramLabel: function (node, spec) {
        var value = node.params[spec.name];
        if (blank(value)) { return ""; }
        var self = this;
        var plain = spec.kind === "event" || SCOPES[spec.kind];
        var items = has(MULTIPLE, spec.kind) ? String(value).split(",") : [value];
        return items.map(function (item) {
          return self.labels[self.labelKey(node, spec, item)] || (plain ? item : "#" + item);
        }).join(", ");
      },

      lookupKinds: [
        "product", "category", "store", "source", "container", "event", "mailing_category", "audience", "segment",
        "mailing", "campaign", "promocode_group", "poll", "poll_question", "poll_row", "poll_option"
      ],

      isLookup: function (spec) { return has(this.lookupKinds, spec.kind); },

      addContext: function (node, spec) { node.params[spec.name].push({ key: "", value: "" }); },

      // ---- errors from the server, by the path of the condition or group

      errorAt: function (path) { return this.errors[path] || ""; },

      receiveErrors: function (detail) {
        if (detail && detail.builder === this.id) { this.errors = detail.errors || {}; }
      },

      // A search box that has just appeared takes the focus once Alpine has drawn it.
      focusSoon: function (element) {
        this.$nextTick(function () { element.focus(); });
      }
    };
  }

  // The live count (segments/_live.html) hands the server's errors, by the path of their condition, to
  // the builder named in its data-builder.
  function ruleErrors() {
    return {
      init: function () {
        var data = this.$el.dataset;
        this.$dispatch("rule-errors", { builder: data.builder, errors: JSON.parse(data.errors || "{}") });
      }
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("segmentBuilder", segmentBuilder);
    window.Alpine.data("ruleErrors", ruleErrors);
  });
})();
