// smartcomm Summary dashboard: draws every card's chart from the page's JSON data block (the page allows
// no inline script), switches a card between its chart and its table, and opens the customers behind a
// bar when the server gave that bar a link.
(function () {
  "use strict";

  var BLUE = "#206bc4", GREEN = "#2fb344", RED = "#d63939", GREY = "#c8d1dc", AZURE = "#4299e1", PURPLE = "#ae3ec9";
  // The channels' colours, as the swatches of the channel table (dashboard.css) show them.
  var CHANNEL_COLOURS = { email: "#206bc4", sms: "#2fb344", viber: "#ae3ec9", push: "#f59f00" };
  var language = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(language);
  var compact = new Intl.NumberFormat(language, { notation: "compact", maximumFractionDigits: 1 });
  var charts = {};

  function base(options) {
    var common = {
      animation: false, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: function (item) {
          return (item.dataset.label ? item.dataset.label + ": " : "") + number.format(item.parsed.y);
        } } }
      },
      scales: {
        x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true } },
        y: { beginAtZero: true, ticks: { precision: 0, callback: function (v) { return compact.format(v); } } }
      }
    };
    return Object.assign(common, options || {});
  }

  // A click on a bar with a link opens the customers behind it.
  function opener(links) {
    return {
      onClick: function (event, elements) {
        if (elements.length && links[elements[0].index]) { window.location.href = links[elements[0].index]; }
      },
      onHover: function (event, elements) {
        var linked = elements.length && links[elements[0].index];
        event.native.target.style.cursor = linked ? "pointer" : "default";
      }
    };
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { charts[id] = new window.Chart(canvas, config); }
  }

  function drawBase(data) {
    var colours = data.base.kinds.map(function (kind) { return kind === "months" ? BLUE : GREY; });
    var options = base(opener(data.base.links));
    options.plugins.legend = { display: false };
    options.scales.x.ticks.autoSkip = false;
    options.scales.x.title = { display: true, text: data.base.axis, color: "#667382" };
    // The tooltip names the bucket in full ("3 months"); the axis keeps it short.
    options.plugins.tooltip.callbacks.title = function (items) { return data.base.titles[items[0].dataIndex]; };
    draw("chart-base", {
      type: "bar",
      data: { labels: data.base.labels, datasets: [{ label: data.labels.customers, data: data.base.counts, backgroundColor: colours, borderRadius: 4 }] },
      options: options
    });
  }

  function drawReturning(data) {
    var options = base(Object.assign({ indexAxis: "y" }, opener(data.returning.links)));
    var shares = function (values) {
      var total = values.reduce(function (a, b) { return a + b; }, 0);
      return values.map(function (v) { return total ? Math.round(v * 1000 / total) / 10 : 0; });
    };
    options.scales = { x: { stacked: true, max: 100, ticks: { callback: function (v) { return v + " %"; } } }, y: { stacked: true, grid: { display: false } } };
    options.interaction = { mode: "nearest", intersect: true };
    var customers = shares(data.returning.customers), revenue = shares(data.returning.revenue);
    var raw = [data.returning.customers, data.returning.revenue];
    options.plugins.tooltip.callbacks.label = function (item) {
      return item.dataset.label + ": " + number.format(raw[item.dataIndex][item.datasetIndex]) + " (" + number.format(item.parsed.x) + " %)";
    };
    draw("chart-returning", {
      type: "bar",
      data: {
        labels: [data.labels.customers, data.labels.revenue],
        datasets: [
          { label: data.returning.labels[0], data: [customers[0], revenue[0]], backgroundColor: BLUE, borderRadius: 4 },
          { label: data.returning.labels[1], data: [customers[1], revenue[1]], backgroundColor: GREY, borderRadius: 4 }
        ]
      },
      options: options
    });
    // A click opens the group's customers: the dataset is the group here, not the bar.
    charts["chart-returning"].options.onClick = function (event, elements) {
      var link = elements.length && data.returning.links[elements[0].datasetIndex];
      if (link) { window.location.href = link; }
    };
  }

  function line(label, values, colour, fill) {
    // Monotone curves never swing past the data (a share below 0 %, a count below the lowest month).
    return { label: label, data: values, borderColor: colour, backgroundColor: colour + "22", cubicInterpolationMode: "monotone", spanGaps: true, fill: fill, pointRadius: 3 };
  }

  function drawRfm(data) {
    draw("chart-rfm", {
      type: "line",
      data: { labels: data.months, datasets: [line(data.labels.best, data.rfm.best, GREEN, false), line(data.labels.lost, data.rfm.lost, RED, false)] },
      options: base()
    });
  }

  function drawRepeat(data) {
    var options = base();
    options.scales.y = { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + " %"; } } };
    options.plugins.legend = { display: false };
    options.plugins.tooltip.callbacks.label = function (item) { return number.format(item.parsed.y) + " %"; };
    draw("chart-repeat", {
      type: "line",
      data: { labels: data.months, datasets: [line(data.labels.repeat, data.repeat, AZURE, true)] },
      options: options
    });
  }

  function salesDatasets(data, measure) {
    if (measure === "channels") {
      return data.sales.channels.map(function (channel) {
        return { label: channel.label, data: channel.amounts, backgroundColor: CHANNEL_COLOURS[channel.key] || GREY, borderRadius: 3 };
      });
    }
    return [
      { label: data.labels.assisted, data: data.sales["assisted_" + measure], backgroundColor: BLUE, borderRadius: 3 },
      { label: data.labels.regular, data: data.sales["regular_" + measure], backgroundColor: GREY, borderRadius: 3 }
    ];
  }

  function drawSales(data) {
    var options = base();
    options.scales.x.stacked = true;
    options.scales.y.stacked = true;
    draw("chart-sales", { type: "bar", data: { labels: data.months, datasets: salesDatasets(data, "amount") }, options: options });
    document.querySelectorAll(".sc-dash-measure [data-measure]").forEach(function (button) {
      button.addEventListener("click", function () {
        var chart = charts["chart-sales"];
        chart.data.datasets = salesDatasets(data, button.dataset.measure);
        chart.update();
        button.parentElement.querySelectorAll(".btn").forEach(function (b) { b.classList.toggle("active", b === button); });
      });
    });
  }

  // The global control group against the rest of the base: conversion and revenue per customer, each on
  // its own axis (the bars of the group's settings page).
  function drawControl(data) {
    var control = data.control;
    if (!control) { return; }
    var money = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
    var options = base();
    options.scales = {
      x: { grid: { display: false } },
      conversion: { position: "left", beginAtZero: true, title: { display: true, text: control.conversion_label },
                    ticks: { callback: function (v) { return number.format(v) + " %"; } } },
      revenue: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                 title: { display: true, text: control.revenue_label },
                 ticks: { callback: function (v) { return compact.format(v); } } }
    };
    options.plugins.tooltip.callbacks.label = function (item) {
      var value = item.dataset.yAxisID === "conversion" ? number.format(item.parsed.y) + " %" : money.format(item.parsed.y);
      return item.dataset.label + ": " + value;
    };
    draw("chart-control", {
      type: "bar",
      data: {
        labels: control.labels,
        datasets: [
          { label: control.conversion_label, data: control.conversion, yAxisID: "conversion", backgroundColor: AZURE, borderRadius: 4, maxBarThickness: 56 },
          { label: control.revenue_label, data: control.revenue, yAxisID: "revenue", backgroundColor: PURPLE, borderRadius: 4, maxBarThickness: 56 }
        ]
      },
      options: options
    });
  }

  // The chart/table switch of every card.
  function switches() {
    document.querySelectorAll(".sc-dash-switch [data-show]").forEach(function (button) {
      button.addEventListener("click", function () {
        var card = button.closest(".sc-dash-card"), show = button.dataset.show;
        card.querySelectorAll("[data-part]").forEach(function (part) { part.hidden = part.dataset.part !== show; });
        button.parentElement.querySelectorAll("[data-show]").forEach(function (b) {
          b.classList.toggle("active", b === button);
          b.setAttribute("aria-pressed", b === button ? "true" : "false");
        });
      });
    });
  }

  function drawAll() {
    switches();
    var source = document.getElementById("dashboard-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    drawBase(data);
    drawReturning(data);
    drawRfm(data);
    drawRepeat(data);
    drawSales(data);
    drawControl(data);
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawAll();
})();
