// smartcomm orders: the Orders list's chart of orders per day, drawn from the page's JSON data block and
// drawn again when the filters bring new results (the page allows no inline script); and the switches of
// Settings → Order statuses, which send their form as soon as they are flipped.
(function () {
  "use strict";

  var chart = null;

  function drawDays() {
    var canvas = document.getElementById("orders-chart");
    var source = document.getElementById("orders-chart-data");
    if (chart) { chart.destroy(); chart = null; }
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var primary = getComputedStyle(document.body).getPropertyValue("--tblr-primary").trim();
    chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.orders, backgroundColor: primary, borderRadius: 4 }]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function submitOnFlip(event) {
    var box = event.target;
    if (box.matches && box.matches("[data-autosubmit]") && box.form) { box.form.submit(); }
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawDays();
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "orders-results") { drawDays(); }
  });
  document.addEventListener("change", submitOnFlip);
})();
