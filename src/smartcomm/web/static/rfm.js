// smartcomm RFM page: the chart of best and lost customers by calculation, drawn from the page's JSON
// data block (the page allows no inline script).
(function () {
  "use strict";

  function drawHistory() {
    var canvas = document.getElementById("rfm-history-chart");
    var source = document.getElementById("rfm-history-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var style = getComputedStyle(document.body);
    var line = function (label, key, colour) {
      var value = style.getPropertyValue(colour);
      return {
        label: label, data: data.points.map(function (p) { return p[key]; }),
        borderColor: value, backgroundColor: value, tension: 0.3
      };
    };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.points.map(function (p) { return p.label; }),
        datasets: [line(data.best, "best", "--tblr-green"), line(data.lost, "lost", "--tblr-red")]
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: { x: { ticks: { maxTicksLimit: 6, maxRotation: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawHistory();
})();
