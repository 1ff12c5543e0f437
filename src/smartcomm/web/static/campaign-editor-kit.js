// smartcomm campaign canvas: what its scripts share — small DOM and fetch helpers, the view of the canvas
// (zoom, fit, centring: Drawflow scales its canvas about the canvas's centre) and the campaign's settings
// drawer. Loaded before campaign-editor-fields.js and campaign-editor.js.
(function () {
  "use strict";

  var NODE_WIDTH = 240;  // as in campaign-editor.css

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function icon(name) { return el("i", { className: "ti " + name }); }

  function clone(value) { return JSON.parse(JSON.stringify(value === undefined ? null : value)); }

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function toast(message, category) { if (window.smartcomm) { window.smartcomm.toast(message, category); } }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (error) { return ""; }
  }

  function send(method, url, body) {
    var options = {
      method: method,
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin"
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      var type = response.headers.get("content-type") || "";
      var read = type.indexOf("json") !== -1 ? response.json() : response.text();
      return read.then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    });
  }

  // Russian has three plural forms (one, few, many); the server sent the word in each.
  function counted(forms, n) {
    var language = document.documentElement.lang;
    var index = n === 1 ? 0 : 1;
    if (language === "ru") {
      var ten = n % 10, hundred = n % 100;
      index = ten === 1 && hundred !== 11 ? 0 : ten >= 2 && ten <= 4 && (hundred < 12 || hundred > 14) ? 1 : 2;
    }
    return forms[index].replace("%(num)s", formatNumber(n));
  }

  function formatNumber(n) { return Number(n).toLocaleString(document.documentElement.lang || "en"); }

  // ---- the view of the canvas ------------------------------------------------------------------------------

  function view(editor, container) {
    function applyView(x, y, zoom) {
      editor.zoom = zoom;
      editor.zoom_last_value = zoom;
      editor.canvas_x = x;
      editor.canvas_y = y;
      editor.precanvas.style.transform = "translate(" + x + "px, " + y + "px) scale(" + zoom + ")";
    }

    // Drawflow scales its canvas about the canvas's centre: place a point of the canvas at the window's centre.
    function centreOn(px, py, zoom) {
      var width = container.clientWidth, height = container.clientHeight;
      applyView(-(px - width / 2) * zoom, -(py - height / 2) * zoom, zoom);
    }

    function fit() {
      var data = editor.drawflow.drawflow.Home.data;
      var keys = Object.keys(data);
      if (!keys.length) { applyView(0, 0, 1); return; }
      var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      keys.forEach(function (key) {
        var element = $("node-" + key);
        var w = element ? element.offsetWidth : NODE_WIDTH, h = element ? element.offsetHeight : 90;
        minX = Math.min(minX, data[key].pos_x); minY = Math.min(minY, data[key].pos_y);
        maxX = Math.max(maxX, data[key].pos_x + w + 90); maxY = Math.max(maxY, data[key].pos_y + h + 30);
      });
      var zoom = Math.min(1, (container.clientWidth - 60) / (maxX - minX), (container.clientHeight - 60) / (maxY - minY));
      zoom = Math.max(editor.zoom_min, Math.round(zoom * 10) / 10);
      // The journey starts at the left edge (where the trigger is), centred from top to bottom.
      var cx = container.clientWidth / 2, cy = container.clientHeight / 2;
      applyView(40 - cx - (minX - cx) * zoom, -((minY + maxY) / 2 - cy) * zoom, zoom);
    }

    // The panel narrows the canvas: a node it would cover is brought back into view.
    function ensureVisible(element) {
      if (!element) { return; }
      var box = container.getBoundingClientRect(), node = element.getBoundingClientRect();
      var dx = Math.max(0, node.right - (box.right - 48)) || Math.min(0, node.left - (box.left + 16));
      var dy = Math.max(0, node.bottom - (box.bottom - 16)) || Math.min(0, node.top - (box.top + 16));
      if (dx || dy) { applyView(editor.canvas_x - dx, editor.canvas_y - dy, editor.zoom); }
    }

    function canvasPoint(clientX, clientY) {
      var rect = editor.precanvas.getBoundingClientRect();
      return { x: (clientX - rect.x) / editor.zoom, y: (clientY - rect.y) / editor.zoom };
    }

    return { applyView: applyView, centreOn: centreOn, fit: fit, ensureVisible: ensureVisible, canvasPoint: canvasPoint };
  }

  // ---- the campaign's settings drawer ----------------------------------------------------------------------

  function settingsBody(form) {
    var read = function (name) { var input = form.elements[name]; return input ? input.value : ""; };
    var mode = (form.querySelector('input[name="reentry"]:checked') || {}).value || "once";
    var exits = [];
    form.querySelectorAll('input[name="exit"]:checked').forEach(function (box) {
      if (box.value !== "event") { exits.push({ kind: box.value }); return; }
      read("exit_events").split(",").map(function (n) { return n.trim(); }).filter(Boolean).forEach(function (name) {
        exits.push({ kind: "event", name: name });
      });
    });
    var amount = read("reentry_amount").trim();
    return {
      attribution: attributionRule(form, read),
      name: read("name"),
      description: read("description").trim() || null,
      reentry: mode,
      reentry_amount: /^\d+$/.test(amount) ? parseInt(amount, 10) : amount,
      reentry_unit: read("reentry_unit"),
      exit_rules: exits,
      category_id: read("category_id") ? parseInt(read("category_id"), 10) : null,
      exclude_global_control: form.elements.exclude_global_control.checked
    };
  }

  // The campaign's own attribution rule; null: the one in the settings. Numbers go as typed: the server
  // names what is wrong with them.
  function attributionRule(form, read) {
    var window = (form.querySelector('input[name="attribution.window"]:checked') || {}).value || "default";
    if (window === "default") { return null; }
    if (window === "off") { return { window: "off" }; }
    var criteria = {}, skus = read("attribution.criteria.skus").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    ["min_amount", "min_items"].forEach(function (name) {
      var text = read("attribution.criteria." + name).trim();
      if (text !== "") { criteria[name] = text; }
    });
    if (skus.length) { criteria.skus = skus; }
    var rule = { window: window, criteria: Object.keys(criteria).length ? criteria : null };
    if (window === "days") {
      var days = read("attribution.days").trim();
      rule.days = /^\d+$/.test(days) ? parseInt(days, 10) : days;
    } else {
      rule.date_from = read("attribution.date_from") || null;
      rule.date_to = read("attribution.date_to") || null;
    }
    return rule;
  }

  // The rows of the window chosen are shown, the others hidden.
  function showAttributionWindow(form) {
    var window = (form.querySelector('input[name="attribution.window"]:checked') || {}).value || "default";
    form.querySelectorAll("#s-attribution [data-window]").forEach(function (row) {
      row.hidden = row.getAttribute("data-window").split(" ").indexOf(window) === -1;
    });
  }

  function bindSettings(T) {
    var form = $("settings-form");
    if (!form) { return; }
    form.querySelectorAll('input[name="attribution.window"]').forEach(function (radio) {
      radio.addEventListener("change", function () { showAttributionWindow(form); });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.querySelectorAll("[data-error-for]").forEach(function (slot) { slot.textContent = ""; });
      form.querySelectorAll(".is-invalid").forEach(function (input) { input.classList.remove("is-invalid"); });
      send("POST", form.getAttribute("data-url"), settingsBody(form)).then(function (answer) {
        if (answer.ok) {
          $("campaign-title").textContent = answer.data.name;
          toast(T.settings_saved);
          return;
        }
        var errors = (answer.data && answer.data.errors) || {};
        Object.keys(errors).forEach(function (name) {
          // A field without a slot of its own (the third SKU) is told under its group's.
          var slot = form.querySelector('[data-error-for="' + name + '"]') ||
            form.querySelector('[data-error-for="' + name.split(/[.[]/)[0] + '"]');
          if (slot) { slot.textContent = errors[name]; }
          var input = form.elements[name];
          if (input && input.classList) { input.classList.add("is-invalid"); }
        });
        toast(T.settings_refused, "danger");
      });
    });
  }

  window.smartcommCanvasKit = {
    $: $, el: el, icon: icon, clone: clone, escapeHtml: escapeHtml, toast: toast, send: send, counted: counted,
    formatNumber: formatNumber, view: view, bindSettings: bindSettings
  };
})();
