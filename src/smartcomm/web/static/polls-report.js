// smartcomm poll report: responses per day as a line, drawn from the page's JSON data block (the page allows
// no inline script), and the mailing filter that reloads the report when another mailing is chosen.
(function () {
  "use strict";

  function drawDays() {
    var canvas = document.getElementById("poll-days-chart");
    var source = document.getElementById("poll-days-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var primary = getComputedStyle(document.body).getPropertyValue("--tblr-primary").trim();
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.label, data: data.counts, borderColor: primary, backgroundColor: primary + "22",
          fill: true, tension: 0.3, pointRadius: data.counts.length > 40 ? 0 : 3
        }]
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { maxRotation: 0, autoSkip: true } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
  });

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawDays();
})();
