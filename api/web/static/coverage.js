// Coverage charts (uPlot): required vs scheduled agents, and projected service level (or the
// on-time share and backlog of deferred work) per interval, per channel.
"use strict";

(function () {
  function width(el) { return Math.max(320, el.clientWidth || 900); }

  function tz(ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); }

  function step() {
    return uPlot.paths.stepped({ align: 1 });
  }

  function pctSeries(label, colour, dash) {
    return {
      label: label, stroke: colour, width: 1.5, dash: dash || undefined, scale: "%",
      value: function (u, v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " %"; },
    };
  }

  function draw(el, data) {
    var ch = data.channels[Number(el.getAttribute("data-channel"))];
    var kind = el.getAttribute("data-chart");
    var x = data.x;
    var opts, series;
    var base = { width: width(el), height: 220, tzDate: tz, cursor: { drag: { x: true, y: false } } };
    if (kind === "cover") {
      opts = Object.assign(base, {
        series: [
          {},
          { label: ch.deferred ? "plan" : "required", stroke: "#222", width: 1.5, paths: step() },
          { label: "scheduled", stroke: ch.colour, fill: ch.colour + "40", width: 1.5, paths: step() },
        ],
        axes: [{}, { label: "agents" }],
      });
      series = [x, ch.required, ch.scheduled];
    } else if (kind === "sl") {
      var target = x.map(function () { return ch.target === null ? null : 100 * ch.target; });
      opts = Object.assign(base, {
        scales: { "%": { range: [0, 100] } },
        series: [{}, pctSeries("service level", ch.colour), pctSeries("target", "#444", [6, 4])],
        axes: [{}, { scale: "%", label: "%" }],
      });
      series = [x, ch.service_level.map(function (v) { return v === null ? null : 100 * v; }), target];
    } else {
      opts = Object.assign(base, {
        scales: { "%": { range: [0, 100] }, items: {} },
        series: [
          {},
          pctSeries("on time", ch.colour),
          { label: "backlog (items)", stroke: "#c0392b", width: 1, scale: "items", paths: step() },
        ],
        axes: [{}, { scale: "%", label: "% on time" }, { scale: "items", side: 1, label: "items", grid: { show: false } }],
      });
      series = [x, ch.service_level.map(function (v) { return v === null ? null : 100 * v; }), ch.backlog || x.map(function () { return null; })];
    }
    return new uPlot(opts, series, el);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("chart-data");
    if (!node || typeof uPlot === "undefined") return;
    var data = JSON.parse(node.textContent);
    var plots = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) { plots.push([el, draw(el, data)]); });
    window.addEventListener("resize", function () {
      plots.forEach(function (p) { p[1].setSize({ width: width(p[0]), height: 220 }); });
    });
  });
})();
