// smartcomm campaign report: the funnel by node (stacked bars), the messages by channel and the e-mail opens
// by hour of the day, drawn from the page's JSON data block (the page allows no inline script). The
// orders per day are drawn by mailing-report.js, which the page loads too.
(function () {
  "use strict";

  var style = getComputedStyle(document.body);
  function colour(name) { return style.getPropertyValue("--tblr-" + name).trim(); }

  // Each series' colour, by its key; a node's outputs ("output:<name>") by the output's name.
  var COLOURS = {
    waiting: "azure", stopped: "orange",
    sent: "primary", delivered: "cyan", opened: "teal", clicked: "purple", opens: "primary",
    "output:out": "green", "output:yes": "teal", "output:no": "pink", "output:control": "gray-500",
    "output:over": "yellow", "output:undelivered": "red", "output:delivered": "azure",
    "output:opened": "cyan", "output:clicked": "purple"
  };
  var SPARE = ["blue", "indigo", "lime", "cyan", "purple", "yellow", "red", "teal"];

  function datasets(series, extra) {
    return series.map(function (each, index) {
      var shade = colour(COLOURS[each.key] || SPARE[index % SPARE.length]);
      return Object.assign({ label: each.label, data: each.data, backgroundColor: shade, borderRadius: 4 }, extra);
    });
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) { return; }
    config.options = Object.assign({
      animation: false, maintainAspectRatio: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
    }, config.options || {});
    new window.Chart(canvas, config);
  }

  function drawNodes(data) {
    // Horizontal, stacked: every node's journeys split into those passed on, waiting there and stopped.
    draw("nodes-chart-canvas", {
      type: "bar",
      data: { labels: data.labels, datasets: datasets(data.series, { barThickness: 22 }) },
      options: {
        indexAxis: "y", interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } }
      }
    });
  }

  function drawChannels(data) {
    draw("channels-chart-canvas", {
      type: "bar",
      data: { labels: data.labels, datasets: datasets(data.series, {}) },
      options: { interaction: { mode: "index", intersect: false },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function drawHours(data) {
    draw("opens-chart-canvas", {
      type: "bar",
      data: { labels: data.labels, datasets: datasets(data.series, {}) },
      options: { plugins: { legend: { display: false } },
                 scales: { x: { ticks: { maxRotation: 0, autoSkip: true } },
                           y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  var source = document.getElementById("campaign-report-data");
  if (source) {
    var data = JSON.parse(source.textContent);
    drawNodes(data.nodes);
    drawChannels(data.channels);
    drawHours(data.hours);
  }
})();
