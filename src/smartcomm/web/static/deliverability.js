// smartcomm Settings → Channels → E-mail → Deliverability: the bounce and complaint rates per day, each
// with its warning and bad thresholds as dashed lines, drawn from the page's JSON data (no inline script).
(function () {
  "use strict";

  function line(label, values, colour, dashed) {
    return {
      label: label, data: values, borderColor: colour, backgroundColor: colour, pointRadius: dashed ? 0 : 2,
      borderWidth: dashed ? 1.5 : 2, borderDash: dashed ? [6, 4] : [], tension: 0.25, fill: false
    };
  }

  function constant(value, length) {
    var values = [];
    for (var i = 0; i < length; i += 1) { values.push(value); }
    return values;
  }

  function draw(canvas, data, words, key) {
    var count = data.labels.length;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          line(words[key], data[key], "#206bc4", false),
          line(words.warn, constant(data[key + "_warn"], count), "#f59f00", true),
          line(words.bad, constant(data[key + "_bad"], count), "#d63939", true)
        ]
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + " %"; } } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  function drawAll() {
    var source = document.getElementById("deliverability-data");
    var labels = document.getElementById("deliverability-labels");
    if (!source || !labels || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var words = JSON.parse(labels.textContent);
    var bounce = document.getElementById("bounce-chart");
    var complaint = document.getElementById("complaint-chart");
    if (bounce) { draw(bounce, data, words, "bounce"); }
    if (complaint) { draw(complaint, data, words, "complaint"); }
  }

  // Deferred after Chart.js, so the document is parsed and the library loaded when this runs.
  drawAll();
})();
