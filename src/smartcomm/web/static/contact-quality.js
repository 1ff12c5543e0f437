// smartcomm Contact data quality: one doughnut per contact kind (e-mail, phone, push), drawn from the
// page's JSON data block (the page allows no inline script). A slice opens the customers of its bucket.
(function () {
  "use strict";

  // Tabler's palette by name (the names the server gives each bucket).
  var COLOURS = { green: "#2fb344", red: "#d63939", yellow: "#f59f00", azure: "#4299e1", secondary: "#c8d1dc" };

  function colour(name) { return COLOURS[name] || COLOURS.secondary; }

  function drawKind(canvas, data) {
    var filters = data.filters;
    new window.Chart(canvas, {
      type: "doughnut",
      data: {
        labels: data.labels,
        datasets: [{
          data: data.counts,
          backgroundColor: data.colours.map(colour),
          borderWidth: 1
        }]
      },
      options: {
        animation: false, maintainAspectRatio: false, cutout: "62%",
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        onClick: function (event, elements) {
          if (elements.length) { window.location.href = "/customers?contact=" + filters[elements[0].index]; }
        }
      }
    });
  }

  function drawAll() {
    var source = document.getElementById("contact-quality-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-kind]").forEach(function (canvas) {
      var kind = data[canvas.dataset.kind];
      if (kind) { drawKind(canvas, kind); }
    });
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawAll();
})();
