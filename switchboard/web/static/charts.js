// The overview's chart: calls per day, stacked by outcome (Chart.js).
(function () {
  "use strict";
  var canvas = document.getElementById("outcomes-chart");
  var data = document.getElementById("outcomes-data");
  if (!canvas || !data || !window.Chart) return;
  var chart = JSON.parse(data.textContent);
  var colors = { answered: "#0f9d63", missed: "#d6455a", voicemail: "#e0a126", other: "#9aa3bd" };
  var names = { answered: "Answered", missed: "Missed", voicemail: "Voicemail", other: "Other" };
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: Object.keys(names).map(function (key) {
        return { label: names[key], data: chart.series[key], backgroundColor: colors[key], borderRadius: 4, maxBarThickness: 38 };
      }),
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12, usePointStyle: true } } },
      scales: {
        x: { stacked: true, grid: { display: false } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: "#eef0f6" } },
      },
    },
  });
})();
