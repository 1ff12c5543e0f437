// smartcomm Mass messaging: the progress of mailings being sent (polled), the editor's switches and A/B
// variants, the control-group slider, and the messaging volume with its chart. The pages allow no inline
// script: everything is wired here from data attributes.
(function () {
  "use strict";

  var POLL_MS = 4000;
  var LETTERS = "ABCDE";
  var BUCKET_COLOURS = {
    good_recipients: "--tblr-green", address_issue: "--tblr-orange", unsubscribed_channel: "--tblr-red",
    unsubscribed_category: "--tblr-pink", blocked_by_policy: "--tblr-purple", global_control: "--tblr-cyan",
    control: "--tblr-azure"
  };

  function formatNumber(value) {
    return new Intl.NumberFormat(document.documentElement.lang || "en").format(value);
  }

  // --- progress -----------------------------------------------------------------------------------------

  function activeIds() {
    var ids = [];
    document.querySelectorAll("[data-progress][data-active]").forEach(function (bar) {
      ids.push(bar.getAttribute("data-progress"));
    });
    return ids;
  }

  function showProgress(id, state) {
    document.querySelectorAll('[data-progress="' + id + '"]').forEach(function (box) {
      var bar = box.querySelector("[data-progress-bar]");
      bar.style.width = state.percent + "%";
      box.querySelector("[data-progress-percent]").textContent = state.percent + "%";
      box.querySelector(".progress").setAttribute("aria-valuenow", state.percent);
      if (!state.active) { box.removeAttribute("data-active"); bar.classList.remove("progress-bar-animated"); }
    });
    var card = document.querySelector('[data-progress-card="' + id + '"]');
    if (card) {
      Object.keys(state.counts).forEach(function (key) {
        var cell = card.querySelector('[data-count="' + key + '"]');
        if (cell) { cell.textContent = formatNumber(state.counts[key]); }
      });
      if (!state.active && card.hasAttribute("data-active")) { window.location.reload(); }
    }
    var row = document.querySelector('tr[data-mailing-id="' + id + '"]');
    if (row) {
      var sent = row.querySelector('[data-count="sent"]');
      var delivered = row.querySelector('[data-count="delivered"]');
      if (sent) { sent.textContent = formatNumber(state.counts.sent); }
      if (delivered) { delivered.textContent = formatNumber(state.counts.delivered); }
    }
  }

  function poll() {
    var ids = activeIds();
    if (!ids.length) { return; }
    fetch("/mailings/progress?ids=" + ids.join(","), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (states) { Object.keys(states).forEach(function (id) { showProgress(id, states[id]); }); })
      .catch(function () { /* the next round tries again */ });
  }

  // --- the editor's switches ---------------------------------------------------------------------------

  function wireToggles(form) {
    form.querySelectorAll("[data-toggles]").forEach(function (input) {
      var target = document.querySelector(input.getAttribute("data-toggles"));
      var sync = function () { if (target) { target.hidden = !input.checked; } };
      input.addEventListener("change", sync);
    });
    var modes = form.querySelectorAll('input[name="control_mode"]');
    var syncMode = function () {
      var chosen = form.querySelector('input[name="control_mode"]:checked');
      form.querySelectorAll("[data-control-mode]").forEach(function (box) {
        box.hidden = !chosen || box.getAttribute("data-control-mode") !== chosen.value;
      });
    };
    modes.forEach(function (input) { input.addEventListener("change", syncMode); });
    var windows = form.querySelectorAll('input[name="attribution_rule.window"]');
    var syncWindow = function () {
      var chosen = form.querySelector('input[name="attribution_rule.window"]:checked');
      form.querySelectorAll("[data-window]").forEach(function (box) {
        box.hidden = !chosen || box.getAttribute("data-window").split(" ").indexOf(chosen.value) < 0;
      });
    };
    windows.forEach(function (input) { input.addEventListener("change", syncWindow); });
    var slider = document.getElementById("f-control_percent");
    var shown = document.getElementById("control-percent-value");
    if (slider && shown) { slider.addEventListener("input", function () { shown.textContent = slider.value + "%"; }); }
  }

  function wireLaunch(form) {
    var button = document.getElementById("launch");
    var moment = document.getElementById("f-scheduled_at");
    if (!button || button.disabled || !moment) { return; }
    var text = button.querySelector("[data-launch-text]");
    var sync = function () {
      text.textContent = button.getAttribute(moment.value ? "data-schedule-label" : "data-launch-label");
    };
    moment.addEventListener("input", sync);
    button.addEventListener("click", function (event) {
      var question = button.getAttribute(moment.value ? "data-confirm-schedule" : "data-confirm-launch");
      if (question && !window.confirm(question)) { event.preventDefault(); }
    });
  }

  // --- A/B variants ----------------------------------------------------------------------------------

  function variantCards() { return document.querySelectorAll("#variants [data-variant]"); }

  function renumber() {
    // Names carry the variant's position (variants[2].share): after a removal the rest move up.
    variantCards().forEach(function (card, index) {
      card.querySelector("[data-variant-letter]").textContent = LETTERS[index];
      card.querySelectorAll("[name]").forEach(function (field) {
        field.name = field.name.replace(/^variants\[\d+\]/, "variants[" + index + "]");
        field.id = field.id.replace(/^f-variants-\d+/, "f-variants-" + index);
      });
      card.querySelectorAll("label[for]").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/^f-variants-\d+/, "f-variants-" + index);
      });
    });
    var add = document.getElementById("add-variant");
    if (add) { add.disabled = variantCards().length >= LETTERS.length; }
  }

  function evenShares() {
    var cards = variantCards();
    if (!cards.length) { return; }
    var share = Math.floor(1000 / cards.length) / 10;
    cards.forEach(function (card, index) {
      var last = index === cards.length - 1;
      card.querySelector("[data-share]").value = last ? Math.round((100 - share * (cards.length - 1)) * 10) / 10 : share;
    });
  }

  function addVariant() {
    var template = document.getElementById("variant-template");
    var box = document.getElementById("variants");
    if (!template || !box || variantCards().length >= LETTERS.length) { return; }
    var html = template.innerHTML.replace(/__INDEX__/g, String(variantCards().length));
    box.insertAdjacentHTML("beforeend", html);
    renumber();
    evenShares();
  }

  function wireVariants() {
    var add = document.getElementById("add-variant");
    var enabled = document.getElementById("f-ab_enabled");
    var box = document.getElementById("variants");
    if (!add || !box) { return; }
    add.addEventListener("click", addVariant);
    box.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-variant]");
      if (!button) { return; }
      button.closest("[data-variant]").remove();
      renumber();
      evenShares();
    });
    if (enabled) {
      enabled.addEventListener("change", function () {
        while (enabled.checked && variantCards().length < 2) { addVariant(); }
      });
    }
    renumber();
  }

  // --- the messaging volume --------------------------------------------------------------------------

  var chart = null;

  function drawVolume(data, labels) {
    var keys = Object.keys(labels);
    var values = keys.map(function (key) { return key === "control" ? data.control : (data.buckets[key] || 0); });
    document.querySelector('[data-volume="audience"]').textContent = formatNumber(data.audience);
    keys.forEach(function (key, index) {
      var cell = document.querySelector('[data-volume="' + key + '"]');
      if (cell) { cell.textContent = formatNumber(values[index]); }
    });
    var canvas = document.getElementById("volume-chart");
    if (!canvas || !window.Chart) { return; }
    var style = getComputedStyle(document.body);
    var colours = keys.map(function (key) { return style.getPropertyValue(BUCKET_COLOURS[key]).trim() || "#206bc4"; });
    if (chart) { chart.destroy(); }
    chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: keys.map(function (key) { return labels[key]; }), datasets: [{ data: values, backgroundColor: colours, borderRadius: 4 }] },
      options: {
        indexAxis: "y", animation: false, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { display: false }, grid: { display: false } } }
      }
    });
  }

  function wireVolume() {
    var card = document.getElementById("volume");
    var button = document.getElementById("calculate-volume");
    var source = document.getElementById("volume-labels");
    if (!card || !button || !source) { return; }
    var labels = JSON.parse(source.textContent);
    var idle = button.innerHTML;
    button.addEventListener("click", function () {
      var url = card.getAttribute("data-volume-url");
      if (!url) { return; }
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy-label");
      document.getElementById("volume-error").hidden = true;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
        .then(function (data) { document.getElementById("volume-result").hidden = false; drawVolume(data, labels); })
        .catch(function () { document.getElementById("volume-error").hidden = false; })
        .then(function () { button.disabled = false; button.innerHTML = idle; });
    });
  }

  // Deferred (after Chart.js where the page loads it): the document is parsed when this runs.
  var form = document.getElementById("mailing-form");
  if (form) { wireToggles(form); wireLaunch(form); wireVariants(); }
  wireVolume();
  if (activeIds().length) { window.setInterval(poll, POLL_MS); }
})();
