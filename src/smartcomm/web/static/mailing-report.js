// smartcomm mailing report: attributed receipts (bars) and revenue (line) per day, drawn from the page's
// JSON data block (the page allows no inline script).
(function () {
  "use strict";

  function drawDays() {
    var canvas = document.getElementById("report-days-chart");
    var source = document.getElementById("report-days-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var style = getComputedStyle(document.body);
    var primary = style.getPropertyValue("--tblr-primary").trim();
    var orange = style.getPropertyValue("--tblr-orange").trim();
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.receipts_label, data: data.receipts, yAxisID: "receipts",
            backgroundColor: primary, borderRadius: 4, order: 2 },
          { type: "line", label: data.amount_label, data: data.amounts, yAxisID: "amount",
            borderColor: orange, backgroundColor: orange, tension: 0.3, order: 1 }
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true } },
          receipts: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
          amount: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawDays();
})();
