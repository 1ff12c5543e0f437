// smartcomm promo code group page: the doughnut of codes by state, drawn from the page's JSON data block
// (the page allows no inline script).
(function () {
  "use strict";

  function drawStates() {
    var canvas = document.getElementById("promo-states-chart");
    var source = document.getElementById("promo-states-data");
    if (!canvas || !source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var style = getComputedStyle(document.body);
    var colours = ["--tblr-green", "--tblr-azure", "--tblr-purple", "--tblr-red"].map(function (name) {
      return style.getPropertyValue(name).trim();
    });
    var empty = data.values.every(function (value) { return value === 0; });
    new window.Chart(canvas, {
      type: "doughnut",
      data: {
        labels: data.labels,
        datasets: [{
          data: empty ? [1] : data.values,
          backgroundColor: empty ? [style.getPropertyValue("--tblr-gray-200").trim() || "#e6e7e9"] : colours,
          borderWidth: 0
        }]
      },
      options: {
        animation: false, maintainAspectRatio: false, cutout: "68%",
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { enabled: !empty }
        }
      }
    });
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawStates();
})();
