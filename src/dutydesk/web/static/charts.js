// Report charts: draws every <figure class="chart"> from its JSON data block with Chart.js
// (vendored from npm by `make vendor`). The table beside each chart already holds every value,
// so without this script (or without Chart.js) the page still says everything.
//
// Series never differ by colour alone: bars get a fill pattern each (solid, stripes, dots,
// cross-hatch, ...), lines a dash and a point shape each, and every line is labelled with its
// name at its last point. The palette is Okabe-Ito's, readable with colour-blindness.
(function () {
  "use strict";

  var COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 5], [12, 6]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "cross", "rectRounded"];
  var PATTERNS = ["solid", "diagonal", "dots", "cross", "horizontal", "vertical", "zigzag", "diagonal-back"];

  function pick(list, i) {
    return list[i % list.length];
  }

  // A 10x10 tile in the series' colour with its own marks, so bars differ in print and in grey.
  function pattern(kind, colour) {
    if (kind === "solid") return colour;
    var size = 10;
    var tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    var g = tile.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, size, size);
    g.strokeStyle = colour;
    g.fillStyle = colour;
    g.lineWidth = 2;
    g.beginPath();
    if (kind === "diagonal" || kind === "cross") {
      g.moveTo(0, size);
      g.lineTo(size, 0);
      g.moveTo(-2, 2);
      g.lineTo(2, -2);
      g.moveTo(size - 2, size + 2);
      g.lineTo(size + 2, size - 2);
    }
    if (kind === "diagonal-back" || kind === "cross") {
      g.moveTo(0, 0);
      g.lineTo(size, size);
      g.moveTo(size - 2, -2);
      g.lineTo(size + 2, 2);
      g.moveTo(-2, size - 2);
      g.lineTo(2, size + 2);
    }
    if (kind === "horizontal") {
      g.moveTo(0, size / 2);
      g.lineTo(size, size / 2);
    }
    if (kind === "vertical") {
      g.moveTo(size / 2, 0);
      g.lineTo(size / 2, size);
    }
    if (kind === "zigzag") {
      g.moveTo(0, 7);
      g.lineTo(size / 2, 3);
      g.lineTo(size, 7);
    }
    g.stroke();
    if (kind === "dots") {
      g.beginPath();
      g.arc(size / 2, size / 2, 2.2, 0, 2 * Math.PI);
      g.fill();
    }
    return g.createPattern(tile, "repeat");
  }

  function format(value, spec) {
    if (value === null || value === undefined) return "–";
    var text = Number(value).toLocaleString(undefined, {
      minimumFractionDigits: spec.decimals || 0,
      maximumFractionDigits: spec.decimals || 0,
    });
    return spec.unit ? text + " " + spec.unit : text;
  }

  function datasets(spec) {
    var line = spec.kind === "line";
    return spec.series.map(function (s, i) {
      var colour = pick(COLOURS, i);
      var d = {
        label: s.name,
        data: s.values,
        borderColor: colour,
        backgroundColor: line ? colour : pattern(pick(PATTERNS, i), colour),
        borderWidth: line ? 2 : 1,
      };
      if (line) {
        d.borderDash = pick(DASHES, i);
        d.pointStyle = pick(POINTS, i);
        d.pointRadius = 4;
        d.pointHoverRadius = 6;
        d.spanGaps = false;
        d.tension = 0;
      }
      return d;
    });
  }

  // Direct labels: each line's name beside its last value, so no one matches colours to a legend.
  var lineLabels = {
    id: "dutydeskLineLabels",
    afterDatasetsDraw: function (chart) {
      if (chart.config.type !== "line") return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      chart.data.datasets.forEach(function (d, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) return;
        for (var j = d.data.length - 1; j >= 0; j--) {
          if (d.data[j] === null || d.data[j] === undefined) continue;
          var point = meta.data[j];
          ctx.fillStyle = d.borderColor;
          ctx.textAlign = "right";
          ctx.fillText(d.label, point.x - 8, point.y - 10);
          return;
        }
      });
      ctx.restore();
    },
  };

  function draw(figure) {
    var block = figure.querySelector("script.chart-data");
    var canvas = figure.querySelector("canvas");
    if (!block || !canvas || typeof window.Chart !== "function") return;
    var spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (err) {
      return; // the table beside it still shows every value
    }
    var horizontal = spec.kind === "hbar";
    var stacked = spec.kind === "stacked";
    var valueAxis = {
      beginAtZero: true,
      stacked: stacked,
      title: { display: !!spec.y_title, text: spec.y_title },
      ticks: { precision: spec.decimals || 0 },
    };
    var labelAxis = { stacked: stacked, title: { display: !!spec.x_title, text: spec.x_title } };
    if (horizontal) {
      // A long label (a cluster's words) is cut to fit a phone; the tooltip and the table
      // beside the chart say it whole.
      labelAxis.ticks = {
        callback: function (value) {
          var text = String(this.getLabelForValue(value));
          return text.length > 24 ? text.slice(0, 23) + "…" : text;
        },
      };
    }
    var chart = new window.Chart(canvas, {
      type: spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets(spec) },
      plugins: [lineLabels],
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: {
            display: spec.series.length > 1,
            position: "bottom",
            labels: { usePointStyle: spec.kind === "line", boxWidth: 18, boxHeight: 12 },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format(item.raw, spec);
              },
            },
          },
        },
      },
    });
    figure.classList.add("chart-drawn");
    figure.dutydeskChart = chart;
  }

  function start() {
    document.querySelectorAll("figure.chart").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
