/* Leadbase console: the dashboard's charts, drawn with uPlot (vendored) from the figures
   the page carries in <script id="dash-data" type="application/json">. Time series are
   lines over the periods; the funnel and the pipeline are bars over their steps. Each
   chart container gets data-rendered="true" once drawn (the browser tests wait for it). */
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2",
                "#db2777", "#4b5563", "#65a30d", "#9333ea"];

  function width(el) { return Math.max(240, Math.floor(el.getBoundingClientRect().width)); }
  function day(iso) { return Date.parse(iso + "T00:00:00Z") / 1000; }

  function lines(el, ts) {
    var xs = ts.periods.map(day);
    var data = [xs];
    var series = [{}];
    ts.series.forEach(function (s, i) {
      data.push(s.counts);
      series.push({ label: s.key === null ? "(none)" : s.key, stroke: COLORS[i % COLORS.length],
                    width: 2, points: { show: xs.length < 40 } });
    });
    if (ts.series.length === 0) { data.push(xs.map(function () { return 0; })); series.push({ label: "—", stroke: "#9ca3af" }); }
    return new uPlot({ width: width(el), height: 220, series: series, tzDate: function (t) { return uPlot.tzDate(new Date(t * 1e3), "Etc/UTC"); },
                       scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
                       axes: [{}, { size: 48 }], legend: { live: false } }, data, el);
  }

  function bars(el, labels, values, label, color, fmt) {
    var xs = labels.map(function (_, i) { return i; });
    var opts = {
      width: width(el), height: 220, legend: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] },
                y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } } },
      axes: [{ values: function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) ? (labels[v] || "") : ""; }); },
               splits: function () { return xs; }, gap: 4, size: 40 },
             { size: 60, values: function (u, splits) { return splits.map(fmt || String); } }],
      series: [{}, { label: label, fill: color, stroke: color, width: 0,
                     paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } }]
    };
    return new uPlot(opts, [xs, values], el);
  }

  function draw() {
    var node = document.getElementById("dash-data");
    if (!node || !window.uPlot) { return; }
    var d = JSON.parse(node.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      el.innerHTML = "";
      var kind = el.getAttribute("data-chart");
      if (kind === "by_source") { lines(el, d.leads.by_source); }
      else if (kind === "activities") { lines(el, d.activities); }
      else if (kind === "imports" && d.imports) {
        var keep = { series: d.imports.series.filter(function (s) {
          return ["jobs", "created", "updated", "invalid"].indexOf(s.key) >= 0; }),
          periods: d.imports.periods };
        lines(el, keep);
      } else if (kind === "funnel") {
        var labels = JSON.parse(el.getAttribute("data-labels") || "[]");
        bars(el, labels, d.leads.funnel.steps.map(function (s) { return s.count; }),
             "leads", "#2563eb");
      } else if (kind === "pipeline" && d.pipeline) {
        bars(el, d.pipeline.stages.map(function (s) { return s.name; }),
             d.pipeline.stages.map(function (s) { return Number(s.value); }),
             d.pipeline.currency, "#16a34a",
             function (v) { return v >= 1e6 ? (v / 1e6) + "M" : v >= 1e3 ? (v / 1e3) + "k" : String(v); });
      }
      el.setAttribute("data-rendered", "true");
    });
  }

  var timer = null;
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(draw, 200); });
})();
