// smartcomm campaign canvas: a Drawflow editor of a campaign's graph.
//
// The page hands over (in #editor-config) the graph as the server keeps it — {nodes: [{id, kind, settings, x,
// y}], edges: [{source, output, target}]} — the palette of node kinds with the form of their settings, each
// node's one-line summary and outputs, the graph's problems and the choices of the side panel. Drawflow numbers
// its nodes itself: our ids (stable across versions, which the funnel numbers and the problems name) live in
// each Drawflow node's data, and `dfOf` maps them back. Outputs are numbered by Drawflow (output_1, output_2…)
// in the order of the kind's output names. The server says what a node's outputs are and how its card reads
// (POST /campaigns/describe) and what is wrong with the graph (POST …/check, PUT …/graph).
(function () {
  "use strict";

  var CLIPBOARD_KEY = "smartcomm.campaign-canvas.clipboard";
  var NODE_WIDTH = 240;  // as in campaign-editor.css
  var config, T, editor, container, campaignId, fields;
  var kinds = {};
  var dfOf = {};       // our node id -> Drawflow id
  var idOf = {};       // Drawflow id -> our node id
  var described = {};  // our node id -> {outputs, output_labels, summary}
  var problems = [];   // [{field, message}]
  var figures = {};    // our node id -> {arrived, in_progress, outputs, stopped}
  var selected = null; // our node id shown in the side panel
  var dirty = false;
  var rebuilding = false;
  var pointer = { x: 80, y: 80 };
  var timers = {};
  var kit = window.smartcommCanvasKit;
  var $ = kit.$, el = kit.el, icon = kit.icon, clone = kit.clone, escapeHtml = kit.escapeHtml, toast = kit.toast;
  var send = kit.send, counted = kit.counted, formatNumber = kit.formatNumber;
  var view;

  function later(key, wait, action) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(action, wait);
  }

  // ---- the graph: loading into Drawflow and exporting back -------------------------------------------------

  function nodeData(id) {
    var dfId = dfOf[id];
    var found = dfId !== undefined && editor.drawflow.drawflow.Home.data[dfId];
    return found ? found.data : null;
  }

  function nodeElement(id) { return dfOf[id] !== undefined ? $("node-" + dfOf[id]) : null; }

  function kindOf(id) { var data = nodeData(id); return data ? kinds[data.kind] : null; }

  function outputsOf(id, kindName) {
    var known = described[id];
    if (known && known.outputs) { return known.outputs; }
    var kind = kinds[kindName];
    return kind ? kind.outputs : ["out"];
  }

  function addCard(id, kindName, settings, x, y) {
    var kind = kinds[kindName];
    var outputs = outputsOf(id, kindName);
    var inputs = kind && kind.group === "trigger" ? 0 : 1;
    var classes = "sc-node sc-group-" + (kind ? kind.group : "unknown") + " sc-family-" + (kind ? kind.family : "unknown");
    var data = { id: id, kind: kindName, settings: settings || {}, outputs: outputs.slice() };
    var dfId = editor.addNode(kindName, inputs, outputs.length, Math.round(x), Math.round(y), classes, data, cardHtml(id, kind, kindName));
    dfOf[id] = dfId;
    idOf[dfId] = id;
    decorate(id);
    return dfId;
  }

  function cardHtml(id, kind, kindName) {
    var summary = described[id] ? described[id].summary : "";
    return (
      '<div class="sc-node-card" data-node="' + escapeHtml(id) + '">' +
        '<div class="sc-node-head">' +
          '<span class="sc-node-icon"><i class="ti ' + escapeHtml(kind ? kind.icon : "ti-alert-triangle") + '"></i></span>' +
          '<div class="sc-node-titles">' +
            (kind && kind.group === "trigger" ? '<div class="sc-node-tag">' + escapeHtml(T.trigger) + "</div>" : "") +
            '<div class="sc-node-kind">' + escapeHtml(kind ? kind.label : kindName) + "</div>" +
            '<div class="sc-node-summary">' + escapeHtml(summary) + "</div>" +
          "</div>" +
        "</div>" +
        '<div class="sc-node-problem" hidden></div>' +
        '<div class="sc-node-figures" hidden></div>' +
      "</div>"
    );
  }

  // Output dots get their names (the filter's Yes/No, A/B variants, e-mail statuses) and colours.
  function decorate(id) {
    var element = nodeElement(id);
    var data = nodeData(id);
    if (!element || !data) { return; }
    var labels = (described[id] && described[id].output_labels) || (kinds[data.kind] || {}).output_labels || {};
    var counts = (figures[id] && figures[id].outputs) || {};
    element.querySelectorAll(".outputs .output").forEach(function (dot, index) {
      var name = data.outputs[index];
      var label = labels[name] || "";
      var count = showFigures() && counts[name] !== undefined ? formatNumber(counts[name]) : "";
      dot.setAttribute("data-output", name || "");
      dot.setAttribute("data-label", [label, count].filter(Boolean).join(" · "));
      dot.setAttribute("title", label || name || "");
    });
    element.classList.toggle("has-labels", data.outputs.length > 1 || data.outputs[0] !== "out");
  }

  function connect(source, output, target) {
    var data = nodeData(source);
    if (!data || dfOf[target] === undefined) { return; }
    var index = data.outputs.indexOf(output);
    if (index === -1 || !editor.getNodeFromId(dfOf[target]).inputs.input_1) { return; }
    editor.addConnection(dfOf[source], dfOf[target], "output_" + (index + 1), "input_1");
  }

  function load(graph) {
    rebuilding = true;
    (graph.nodes || []).forEach(function (node) {
      if (node && typeof node.id === "string") { addCard(node.id, node.kind, node.settings, node.x || 0, node.y || 0); }
    });
    (graph.edges || []).forEach(function (edge) { connect(edge.source, edge.output || "out", edge.target); });
    rebuilding = false;
  }

  function exportGraph() {
    var data = editor.export().drawflow.Home.data;
    var nodes = [], edges = [];
    Object.keys(data).sort(function (a, b) { return Number(a) - Number(b); }).forEach(function (key) {
      var node = data[key];
      nodes.push({ id: node.data.id, kind: node.data.kind, settings: node.data.settings, x: Math.round(node.pos_x), y: Math.round(node.pos_y) });
      Object.keys(node.outputs).forEach(function (outputClass) {
        var output = node.data.outputs[parseInt(outputClass.slice(7), 10) - 1];
        node.outputs[outputClass].connections.forEach(function (connection) {
          var target = data[connection.node];
          if (output && target) { edges.push({ source: node.data.id, output: output, target: target.data.id }); }
        });
      });
    });
    return { nodes: nodes, edges: edges };
  }

  // A kind's outputs changed with its settings (A/B variants): the node is drawn again, its connections
  // kept where their output still exists.
  function syncOutputs(id, outputs) {
    var data = nodeData(id);
    if (!data || JSON.stringify(data.outputs) === JSON.stringify(outputs)) { return; }
    var graph = exportGraph();
    var node = graph.nodes.filter(function (n) { return n.id === id; })[0];
    var touching = graph.edges.filter(function (e) { return e.source === id || e.target === id; });
    rebuilding = true;
    editor.removeNodeId("node-" + dfOf[id]);
    delete idOf[dfOf[id]];
    addCard(id, node.kind, node.settings, node.x, node.y);
    touching.forEach(function (e) { connect(e.source, e.output, e.target); });
    rebuilding = false;
    if (selected === id) {
      nodeElement(id).classList.add("selected");
      if (!config.readOnly) { editor.node_selected = nodeElement(id); }
    }
    pinProblems();
    drawFigures();
  }

  // ---- describing nodes: their line and outputs -----------------------------------------------------------

  function describeSoon(id) { later("describe:" + id, 250, function () { describeNodes([id]); }); }

  function describeNodes(ids) {
    var nodes = ids.map(function (id) {
      var data = nodeData(id);
      return data ? { id: id, kind: data.kind, settings: data.settings } : null;
    }).filter(Boolean);
    if (!nodes.length) { return Promise.resolve(); }
    return send("POST", "/campaigns/describe", { nodes: nodes }).then(function (answer) {
      if (!answer.ok) { return; }
      Object.keys(answer.data).forEach(function (id) {
        described[id] = answer.data[id];
        var element = nodeElement(id);
        if (!element) { return; }
        syncOutputs(id, described[id].outputs);
        nodeElement(id).querySelector(".sc-node-summary").textContent = described[id].summary || "";
        decorate(id);
      });
    });
  }

  // ---- problems: pinned on the nodes and listed --------------------------------------------------------------

  function nodeOfProblem(field) {
    var match = /^nodes\.([A-Za-z0-9_-]+)/.exec(field || "");
    return match ? match[1] : null;
  }

  function setProblems(found) {
    problems = found || [];
    pinProblems();
    listProblems();
    if (selected) { panelProblems(selected); }
  }

  function pinProblems() {
    document.querySelectorAll(".drawflow-node.sc-node").forEach(function (element) {
      element.classList.remove("is-invalid");
      var box = element.querySelector(".sc-node-problem");
      if (box) { box.hidden = true; box.textContent = ""; }
    });
    var first = {};
    problems.forEach(function (problem) {
      var id = nodeOfProblem(problem.field);
      if (id && !first[id]) { first[id] = problem.message; }
    });
    Object.keys(first).forEach(function (id) {
      var element = nodeElement(id);
      if (!element) { return; }
      element.classList.add("is-invalid");
      var box = element.querySelector(".sc-node-problem");
      box.hidden = false;
      box.textContent = first[id];
    });
  }

  function listProblems() {
    var head = $("problems-toggle"), list = $("problems-list");
    if (!head) { return; }
    var box = $("problems");
    box.classList.toggle("has-problems", problems.length > 0);
    head.textContent = "";
    head.appendChild(icon(problems.length ? "ti-alert-triangle" : "ti-circle-check"));
    head.appendChild(el("span", { text: problems.length ? counted(T.problems, problems.length) : T.no_problems }));
    if (problems.length) { head.appendChild(icon("ti-chevron-down sc-problems-chevron")); }
    list.textContent = "";
    problems.forEach(function (problem) {
      var id = nodeOfProblem(problem.field);
      var kind = id ? kindOf(id) : null;
      var item = el("li", { "data-field": problem.field }, [
        el("span", { className: "sc-problem-node", text: kind ? kind.label : T.graph_problem }),
        el("span", { className: "sc-problem-text", text: problem.message })
      ]);
      if (id) {
        item.classList.add("is-link");
        item.addEventListener("click", function () { focusNode(id); });
      }
      list.appendChild(item);
    });
    if (!problems.length) { list.hidden = true; head.setAttribute("aria-expanded", "false"); }
  }

  function checkSoon() {
    if (config.readOnly) { return; }
    later("check", 700, function () {
      send("POST", "/campaigns/" + campaignId + "/check", exportGraph()).then(function (answer) {
        if (answer.ok) { setProblems(answer.data.problems); }
      });
    });
  }

  // ---- changes ----------------------------------------------------------------------------------------------

  function changed() {
    if (rebuilding || config.readOnly) { return; }
    dirty = true;
    var state = $("save-state");
    if (state) { state.textContent = T.unsaved; state.classList.add("is-dirty"); }
    checkSoon();
  }

  function save() {
    var button = $("save-graph");
    if (!button) { return Promise.resolve(true); }
    button.disabled = true;
    $("save-state").textContent = T.saving;
    return send("PUT", "/campaigns/" + campaignId + "/graph", exportGraph()).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) {
        $("save-state").textContent = T.unsaved;
        toast(answer.data && answer.data.message ? answer.data.message : T.save_failed, "danger");
        return false;
      }
      dirty = false;
      $("save-state").textContent = T.saved;
      $("save-state").classList.remove("is-dirty");
      setProblems(answer.data.problems);
      if (answer.data.problems.length) { openProblems(); }
      if (answer.data.problems.length) { toast(counted(T.problems, answer.data.problems.length), "warning"); }
      return true;
    }).catch(function () {
      button.disabled = false;
      toast(T.save_failed, "danger");
      return false;
    });
  }

  function openProblems() {
    var list = $("problems-list");
    if (!list || !problems.length) { return; }
    list.hidden = false;
    $("problems-toggle").setAttribute("aria-expanded", "true");
  }

  // ---- adding, copying, pasting, removing nodes -------------------------------------------------------------

  function hasTrigger() {
    return Object.keys(dfOf).some(function (id) { var kind = kindOf(id); return kind && kind.group === "trigger"; });
  }

  function newId(kindName) {
    var base = String(kindName).split(".").pop().replace(/[^A-Za-z0-9_-]/g, "").slice(0, 24) || "node";
    var number = 1;
    while (dfOf[base + (number === 1 ? "" : "-" + number)] !== undefined) { number += 1; }
    return base + (number === 1 ? "" : "-" + number);
  }

  function addNode(kindName, settings, x, y) {
    var kind = kinds[kindName];
    if (!kind || !kind.available) { return null; }
    if (kind.group === "trigger" && hasTrigger()) { toast(T.one_trigger, "warning"); return null; }
    var id = newId(kindName);
    addCard(id, kindName, settings !== undefined ? clone(settings) : clone(kind.defaults || {}), x, y);
    changed();
    describeNodes([id]);
    select(id);
    return id;
  }

  // Where a node clicked in the palette goes: right of the selected node, else right of the rightmost one.
  function freeSpot() {
    var data = editor.drawflow.drawflow.Home.data;
    var anchor = selected ? data[dfOf[selected]] : null;
    if (!anchor) {
      Object.keys(data).forEach(function (key) { if (!anchor || data[key].pos_x > anchor.pos_x) { anchor = data[key]; } });
    }
    if (!anchor) { return { x: 80, y: 120 }; }
    var x = anchor.pos_x + NODE_WIDTH + 80, y = anchor.pos_y;
    var taken = function () {
      return Object.keys(data).some(function (key) { return Math.abs(data[key].pos_x - x) < 60 && Math.abs(data[key].pos_y - y) < 80; });
    };
    while (taken()) { y += 130; }
    return { x: x, y: y };
  }

  function copyNode(id) {
    var data = nodeData(id);
    if (!data) { return; }
    var clip = { kind: data.kind, settings: data.settings, copied_at: Date.now() };
    try { window.localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(clip)); } catch (error) { return; }
    toast(T.copied);
  }

  function pasteNode() {
    var clip = null;
    try { clip = JSON.parse(window.localStorage.getItem(CLIPBOARD_KEY) || "null"); } catch (error) { clip = null; }
    if (!clip || !kinds[clip.kind]) { toast(T.nothing_to_paste, "warning"); return; }
    var at = selected && nodeData(selected) ? editor.drawflow.drawflow.Home.data[dfOf[selected]] : null;
    var spot = at ? { x: at.pos_x + 40, y: at.pos_y + 140 } : pointer;
    if (addNode(clip.kind, clip.settings, spot.x, spot.y)) { toast(T.pasted); }
  }

  function removeNode(id) {
    if (dfOf[id] !== undefined) { editor.removeNodeId("node-" + dfOf[id]); }
  }

  // ---- selection and the side panel ------------------------------------------------------------------------

  function select(id) {
    document.querySelectorAll(".drawflow-node.selected").forEach(function (e) { e.classList.remove("selected"); });
    var element = nodeElement(id);
    if (!element) { return; }
    element.classList.add("selected");
    if (!config.readOnly) {
      editor.node_selected = element;
    }
    openPanel(id);
  }

  function openPanel(id) {
    var data = nodeData(id), kind = kinds[data.kind];
    selected = id;
    var panel = $("node-panel");
    panel.hidden = false;
    $("campaign-editor").classList.add("has-panel");
    $("panel-icon").className = "sc-node-icon sc-family-" + (kind ? kind.family : "unknown");
    $("panel-icon").innerHTML = '<i class="ti ' + escapeHtml(kind ? kind.icon : "ti-alert-triangle") + '"></i>';
    $("panel-kind").textContent = kind ? kind.label : data.kind;
    $("panel-id").textContent = T.node_id + " · " + id;
    $("panel-description").textContent = kind ? kind.description : "";
    panelProblems(id);
    buildForm(id);
    requestAnimationFrame(function () { view.ensureVisible(nodeElement(id)); });
  }

  function closePanel() {
    selected = null;
    $("node-panel").hidden = true;
    $("campaign-editor").classList.remove("has-panel");
    $("node-form").textContent = "";
  }

  function problemsOf(id) {
    return problems.filter(function (p) { return nodeOfProblem(p.field) === id; });
  }

  function panelProblems(id) {
    var box = $("panel-problems");
    box.textContent = "";
    problemsOf(id).filter(function (p) { return p.field.indexOf(".settings.") === -1; }).forEach(function (p) {
      box.appendChild(el("div", { className: "sc-panel-problem" }, [icon("ti-alert-circle me-1"), el("span", { text: p.message })]));
    });
    document.querySelectorAll("#node-form [data-field-error]").forEach(function (slot) {
      var name = slot.getAttribute("data-field-error");
      var found = problemsOf(id).filter(function (p) { return p.field.indexOf("nodes." + id + ".settings." + name) === 0; });
      slot.textContent = found.length ? found[0].message : "";
      slot.hidden = !found.length;
      var field = slot.closest(".sc-field");
      if (field) { field.classList.toggle("is-invalid", found.length > 0); }
    });
  }

  function focusNode(id) {
    var data = editor.drawflow.drawflow.Home.data[dfOf[id]];
    if (!data) { return; }
    var element = nodeElement(id);
    view.centreOn(data.pos_x + element.offsetWidth / 2, data.pos_y + element.offsetHeight / 2, editor.zoom);
    select(id);
  }

  // ---- the settings form (campaign-editor-fields.js builds it) ---------------------------------------------

  function setting(id, name, value) {
    var data = nodeData(id);
    if (!data) { return; }
    if (value === undefined) { delete data.settings[name]; } else { data.settings[name] = value; }
    describeSoon(id);
    fields.showDependent(id);
    changed();
  }

  function buildForm(id) { fields.build(id); }

  // ---- the context menu ----------------------------------------------------------------------------------

  function showMenu(event, items) {
    var menu = $("context-menu");
    menu.textContent = "";
    items.forEach(function (item) {
      var button = el("button", { type: "button", className: "dropdown-item" + (item.danger ? " text-danger" : ""), "data-menu": item.key },
        [icon(item.icon + " me-2"), document.createTextNode(item.label)]);
      button.addEventListener("click", function () { hideMenu(); item.run(); });
      menu.appendChild(button);
    });
    menu.style.left = event.clientX + "px";
    menu.style.top = event.clientY + "px";
    menu.classList.add("show");
  }

  function hideMenu() { $("context-menu").classList.remove("show"); }

  function onContextMenu(event) {
    if (config.readOnly) { return; }
    var nodeElementHit = event.target.closest && event.target.closest(".drawflow-node");
    if (nodeElementHit) {
      var id = idOf[nodeElementHit.id.slice(5)];
      showMenu(event, [
        { key: "edit", icon: "ti-pencil", label: T.edit, run: function () { select(id); } },
        { key: "copy", icon: "ti-copy", label: T.copy, run: function () { copyNode(id); } },
        { key: "delete", icon: "ti-trash", label: T["delete"], danger: true, run: function () { removeNode(id); } }
      ]);
      return;
    }
    if (event.target.classList && event.target.classList.contains("main-path")) {
      showMenu(event, [{ key: "delete-connection", icon: "ti-trash", label: T.delete_connection, danger: true,
                         run: function () { editor.removeConnection(); } }]);
      return;
    }
    pointer = view.canvasPoint(event.clientX, event.clientY);
    showMenu(event, [{ key: "paste", icon: "ti-clipboard", label: T.paste, run: pasteNode }]);
  }

  // ---- funnel numbers ------------------------------------------------------------------------------------

  function showFigures() { var box = $("show-figures"); return !box || box.checked; }

  function loadFigures() {
    fetch("/campaigns/" + campaignId + "/figures", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { nodes: {} }; })
      .then(function (found) { figures = found.nodes || {}; drawFigures(); });
  }

  function drawFigures() {
    Object.keys(dfOf).forEach(function (id) {
      var element = nodeElement(id);
      if (!element) { return; }
      var box = element.querySelector(".sc-node-figures");
      var numbers = figures[id];
      box.textContent = "";
      box.hidden = !numbers || !showFigures() || !(numbers.arrived || numbers.in_progress || numbers.stopped);
      if (!box.hidden) {
        box.appendChild(badge("ti-users", numbers.arrived, T.entered, "arrived"));
        if (numbers.in_progress) { box.appendChild(badge("ti-hourglass", numbers.in_progress, T.waiting, "in-progress")); }
        if (numbers.stopped) { box.appendChild(badge("ti-hand-stop", numbers.stopped, T.stopped, "stopped")); }
      }
      decorate(id);
    });
  }

  function badge(iconName, count, label, key) {
    return el("span", { className: "sc-figure sc-figure-" + key, title: formatNumber(count) + " " + label, "data-figure": key },
      [icon(iconName), el("span", { text: formatNumber(count) })]);
  }

  // ---- the page's buttons -------------------------------------------------------------------------------

  function post(url) {
    return send("POST", url).then(function (answer) {
      if (answer.ok) { window.location.reload(); return; }
      if (answer.data && answer.data.problems && answer.data.problems.length) { setProblems(answer.data.problems); openProblems(); }
      toast(answer.data && answer.data.message ? answer.data.message : T.save_failed, "danger");
    });
  }

  function bindButtons() {
    var saveButton = $("save-graph");
    if (saveButton) { saveButton.addEventListener("click", save); }
    var activate = $("activate-campaign");
    if (activate) {
      activate.addEventListener("click", function () {
        var ready = dirty ? save() : Promise.resolve(true);
        ready.then(function (saved) { if (saved) { dirty = false; post(activate.getAttribute("data-url")); } });
      });
    }
    var suspend = $("suspend-campaign");
    if (suspend) {
      suspend.addEventListener("click", function () {
        if (window.confirm(suspend.getAttribute("data-question"))) { post(suspend.getAttribute("data-url")); }
      });
    }
    var draft = $("start-draft");
    if (draft) { draft.addEventListener("click", function () { post(draft.getAttribute("data-url")); }); }
    $("zoom-in").addEventListener("click", function () { editor.zoom_in(); });
    $("zoom-out").addEventListener("click", function () { editor.zoom_out(); });
    $("zoom-fit").addEventListener("click", view.fit);
    $("show-figures").addEventListener("change", drawFigures);
    var toggle = $("problems-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var list = $("problems-list");
        list.hidden = !list.hidden || !problems.length;
        toggle.setAttribute("aria-expanded", list.hidden ? "false" : "true");
      });
    }
    $("panel-close").addEventListener("click", function () {
      document.querySelectorAll(".drawflow-node.selected").forEach(function (e) { e.classList.remove("selected"); });
      editor.node_selected = null;
      closePanel();
    });
    kit.bindSettings(T);
  }

  // ---- the palette --------------------------------------------------------------------------------------

  function bindPalette() {
    var palette = $("palette");
    if (!palette) { return; }
    palette.querySelectorAll(".sc-palette-item").forEach(function (item) {
      item.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", item.getAttribute("data-kind"));
        event.dataTransfer.effectAllowed = "copy";
      });
      item.addEventListener("click", function () {
        var spot = freeSpot();
        var id = addNode(item.getAttribute("data-kind"), undefined, spot.x, spot.y);
        if (id) { focusNode(id); }
      });
    });
    container.addEventListener("dragover", function (event) { event.preventDefault(); event.dataTransfer.dropEffect = "copy"; });
    container.addEventListener("drop", function (event) {
      event.preventDefault();
      var kind = event.dataTransfer.getData("text/plain");
      if (!kinds[kind]) { return; }
      var at = view.canvasPoint(event.clientX, event.clientY);
      addNode(kind, undefined, at.x - 30, at.y - 30);
    });
    $("palette-search").addEventListener("input", function (event) {
      var words = event.target.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
      palette.querySelectorAll(".sc-palette-item").forEach(function (item) {
        var text = (item.textContent + " " + (item.getAttribute("title") || "")).toLocaleLowerCase();
        item.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
      });
      palette.querySelectorAll(".sc-palette-family").forEach(function (family) {
        var next = family.nextElementSibling, any = false;
        while (next && next.classList.contains("sc-palette-item")) { any = any || !next.hidden; next = next.nextElementSibling; }
        family.hidden = !any;
      });
    });
  }

  // ---- Drawflow's events and the keyboard -----------------------------------------------------------------

  function bindEditor() {
    editor.on("nodeSelected", function (dfId) { if (!rebuilding) { select(idOf[dfId]); } });
    editor.on("nodeUnselected", function () { if (!rebuilding) { closePanel(); } });
    editor.on("nodeMoved", changed);
    editor.on("connectionCreated", function (info) {
      if (rebuilding) { return; }
      // An output leads to one node: a new connection from it replaces the one it had.
      var node = editor.getNodeFromId(info.output_id);
      node.outputs[info.output_class].connections.forEach(function (c) {
        if (String(c.node) !== String(info.input_id)) {
          editor.removeSingleConnection(info.output_id, c.node, info.output_class, c.output);
        }
      });
      changed();
    });
    editor.on("connectionRemoved", changed);
    editor.on("nodeRemoved", function (dfId) {
      var id = idOf[dfId];
      delete idOf[dfId];
      if (rebuilding) { return; }
      delete dfOf[id];
      if (selected === id) { closePanel(); }
      problems = problems.filter(function (p) { return nodeOfProblem(p.field) !== id; });
      listProblems();
      changed();
    });
    editor.on("zoom", function () { hideMenu(); });
    container.addEventListener("contextmenu", onContextMenu);
    container.addEventListener("dblclick", function (event) {
      var hit = event.target.closest(".drawflow-node");
      if (!hit) { return; }
      select(idOf[hit.id.slice(5)]);
      var first = $("node-form").querySelector("input, select, textarea");
      if (first) { first.focus(); }
    });
    // Read-only: Drawflow selects nothing, a click still shows the node's settings.
    container.addEventListener("click", function (event) {
      var hit = event.target.closest(".drawflow-node");
      if (config.readOnly && hit) { select(idOf[hit.id.slice(5)]); }
    });
    container.addEventListener("mousemove", function (event) { pointer = view.canvasPoint(event.clientX, event.clientY); });
    document.addEventListener("click", function (event) { if (!event.target.closest("#context-menu")) { hideMenu(); } });
    document.addEventListener("keydown", onKey);
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = T.leave; }
    });
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function onKey(event) {
    if (event.key === "Escape") { hideMenu(); }
    if (config.readOnly || typing(event.target) || !(event.ctrlKey || event.metaKey)) { return; }
    var key = event.key.toLowerCase();
    if (key === "c" && selected) { event.preventDefault(); copyNode(selected); }
    if (key === "v") { event.preventDefault(); pasteNode(); }
    if (key === "s") { event.preventDefault(); save(); }
  }

  // ---- start ---------------------------------------------------------------------------------------------

  function start() {
    var island = $("editor-config");
    if (!island || !window.Drawflow || !window.smartcommCanvasForm) { return; }
    config = JSON.parse(island.textContent);
    T = config.texts;
    campaignId = config.campaign.id;
    config.palette.forEach(function (entry) { kinds[entry.name] = entry; });
    described = config.described || {};
    fields = window.smartcommCanvasForm({
      config: config, texts: T, kinds: kinds, $: $, el: el, icon: icon, send: send, formatNumber: formatNumber,
      nodeData: nodeData, kindOf: kindOf, setting: setting, problemsOf: problemsOf, panelProblems: panelProblems,
      selected: function () { return selected; },
      nodeIds: function () { return Object.keys(dfOf); },
      summary: function (id) { return described[id] && described[id].summary; }
    });
    container = $("drawflow");
    editor = new window.Drawflow(container);
    editor.curvature = 0.45;
    editor.line_path = 2;
    editor.zoom_min = 0.3;
    editor.zoom_max = 1.6;
    editor.editor_mode = config.readOnly ? "fixed" : "edit";
    editor.start();
    view = kit.view(editor, container);
    load(config.graph || {});
    bindEditor();
    bindPalette();
    bindButtons();
    setProblems(config.problems || []);
    loadFigures();
    view.fit();
    $("campaign-editor").classList.add("is-ready");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
