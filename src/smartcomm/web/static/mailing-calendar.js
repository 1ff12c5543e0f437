// smartcomm messaging calendar: the messages handed over per day, one stacked bar series per channel,
// drawn from the page's JSON data block (the page allows no inline script).
(function () {
  "use strict";

  var COLOURS = { email: "--tblr-primary", sms: "--tblr-green", viber: "--tblr-purple", push: "--tblr-orange" };

  function drawVolume() {
    var canvas = document.getElementById("calendar-volume-chart");
    var source = document.getElementById("calendar-volume-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var style = getComputedStyle(document.body);
    var datasets = data.series.map(function (channel, index) {
      var colour = style.getPropertyValue(COLOURS[channel] || "--tblr-secondary").trim();
      return { label: data.names[channel] || channel, data: data.values[index], backgroundColor: colour,
        borderRadius: 3, stack: "volume" };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawVolume();
})();
