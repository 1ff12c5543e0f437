// smartcomm Settings → Global control group: the group against the rest of the base as bars (conversion and
// revenue per customer, each on its own axis), drawn from the page's JSON data block (no inline script).
(function () {
  "use strict";

  function style(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  function draw() {
    var canvas = document.getElementById("gcg-chart");
    var source = document.getElementById("gcg-chart-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.conversion_label, data: data.conversion, yAxisID: "conversion",
            backgroundColor: style("--tblr-azure", "#4299e1"), borderRadius: 4, maxBarThickness: 56 },
          { label: data.revenue_label, data: data.revenue, yAxisID: "revenue",
            backgroundColor: style("--tblr-purple", "#ae3ec9"), borderRadius: 4, maxBarThickness: 56 }
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          conversion: { position: "left", beginAtZero: true, grid: { drawOnChartArea: true },
                        title: { display: true, text: data.conversion_label } },
          revenue: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                     title: { display: true, text: data.revenue_label } }
        }
      }
    });
  }

  draw();
})();
