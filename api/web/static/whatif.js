// What-if charts (uPlot): per channel, every variant's required and scheduled agents per
// interval in one chart, and its projected service level (on-time share for deferred work) in
// another, the variants side by side in their own colours.
"use strict";

(function () {
  function width(el) { return Math.max(320, el.clientWidth || 900); }

  function tz(ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); }

  function pct(v) { return v === null || v === undefined ? null : 100 * v; }

  function draw(el, data) {
    var ch = data.channels[Number(el.getAttribute("data-channel"))];
    var kind = el.getAttribute("data-chart");
    var base = { width: width(el), height: 240, tzDate: tz, cursor: { drag: { x: true, y: false } } };
    var series = [{}];
    var values = [data.x];
    if (kind === "cover") {
      ch.series.forEach(function (s) {
        series.push({ label: s.variant + " scheduled", stroke: s.colour, width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) });
        values.push(s.scheduled);
        series.push({ label: s.variant + (ch.deferred ? " plan" : " required"), stroke: s.colour, width: 1, dash: [6, 4], points: { show: false }, paths: uPlot.paths.stepped({ align: 1 }) });
        values.push(s.required);
      });
      return new uPlot(Object.assign(base, { series: series, axes: [{}, { label: "agents" }] }), values, el);
    }
    ch.series.forEach(function (s) {
      series.push({
        label: s.variant, stroke: s.colour, width: 1.5, scale: "%",
        value: function (u, v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " %"; },
      });
      values.push(s.service_level.map(pct));
    });
    if (ch.target !== null && !ch.deferred) {
      series.push({ label: "target", stroke: "#444", width: 1, dash: [2, 3], scale: "%" });
      values.push(data.x.map(function () { return 100 * ch.target; }));
    }
    return new uPlot(Object.assign(base, {
      scales: { "%": { range: [0, 100] } },
      series: series,
      axes: [{}, { scale: "%", label: ch.deferred ? "% on time" : "service level %" }],
    }), values, el);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("what-if-data");
    if (!node || typeof uPlot === "undefined") return;
    var data = JSON.parse(node.textContent);
    var plots = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) { plots.push([el, draw(el, data)]); });
    window.addEventListener("resize", function () {
      plots.forEach(function (p) { p[1].setSize({ width: width(p[0]), height: 240 }); });
    });
  });
})();
