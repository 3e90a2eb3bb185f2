// Draws the timelines and histograms of a Quack HTML report from the data the page carries
// (the script element #quack-data). Every text goes in with textContent, never as markup.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("quack-data").textContent);

  function element(name, attributes, parent) {
    var made = document.createElementNS(NS, name);
    Object.keys(attributes).forEach(function (key) {
      made.setAttribute(key, String(attributes[key]));
    });
    if (parent) {
      parent.appendChild(made);
    }
    return made;
  }

  function label(x, y, text, anchor, parent, cls) {
    var made = element("text", { x: x, y: y, "text-anchor": anchor, class: cls || "label" }, parent);
    made.textContent = text;
    return made;
  }

  function tooltip(parent, text) {
    element("title", {}, parent).textContent = text;
  }

  function seconds(value) {
    if (value < 1) {
      return (value * 1000).toFixed(1) + " ms";
    }
    return value.toFixed(2) + " s";
  }

  // Ticks at round steps: about five of them over `span` seconds.
  function ticks(span) {
    var rough = span / 5;
    if (!(rough > 0)) {
      return [0];
    }
    var power = Math.pow(10, Math.floor(Math.log10(rough)));
    var step = [1, 2, 5, 10].map(function (f) { return f * power; })
      .find(function (s) { return s >= rough; });
    var out = [];
    for (var t = 0; t <= span + step / 1000; t += step) {
      out.push(t);
    }
    return out;
  }

  function drawTimeline(svg, run) {
    var width = 1000, left = 190, right = 12, top = 8, row = 24, bar = 16;
    var rows = run.tracks.length + 1;
    var height = top + rows * row + 34;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    var span = run.wall > 0 ? run.wall : 1;
    var scale = (width - left - right) / span;
    function x(at) { return left + at * scale; }
    // The phases on the first row.
    label(left - 8, top + bar - 3, "run", "end", svg);
    run.phases.forEach(function (phase, index) {
      var wide = (phase[2] - phase[1]) * scale;
      var rect = element("rect", {
        x: x(phase[1]), y: top, width: Math.max(1, wide), height: bar,
        class: "phase phase-" + (index % 2)
      }, svg);
      tooltip(rect, phase[0] + ": " + seconds(phase[1]) + " to " + seconds(phase[2]));
      if (wide > 110) {
        label(x(phase[1]) + 4, top + bar - 4, phase[0], "start", svg, "label phase-label");
      }
    });
    run.tracks.forEach(function (name, index) {
      var y = top + (index + 1) * row;
      element("rect", { x: left, y: y - 2, width: width - left - right, height: row, class: "lane" }, svg);
      label(left - 8, y + bar - 3, name, "end", svg);
    });
    run.units.forEach(function (unit) {
      var y = top + (unit[0] + 1) * row;
      var rect = element("rect", {
        x: x(unit[1]), y: y, width: Math.max(1, unit[2] * scale), height: bar,
        class: "bar status-" + unit[3] + (unit[3] === "ok" ? " task-" + (unit[5] % 6) : "")
      }, svg);
      tooltip(rect, unit[4] + ": " + unit[3] + ", " + seconds(unit[2]) + " from " + seconds(unit[1]));
    });
    run.moments.forEach(function (moment) {
      var y = top + (moment[0] + 1) * row;
      var mark = element("path", {
        d: "M" + x(moment[1]) + " " + (y - 2) + " l-4 -6 h8 z",
        class: "moment moment-" + moment[2]
      }, svg);
      tooltip(mark, seconds(moment[1]) + ": " + moment[3]);
    });
    var axis = top + rows * row + 4;
    element("line", { x1: left, y1: axis, x2: width - right, y2: axis, class: "axis" }, svg);
    ticks(span).forEach(function (at) {
      element("line", { x1: x(at), y1: axis, x2: x(at), y2: axis + 5, class: "axis" }, svg);
      label(x(at), axis + 18, seconds(at), "middle", svg);
    });
  }

  function drawHistogram(svg, run) {
    var width = 1000, left = 50, right = 12, top = 10, plot = 160, bottom = 36;
    svg.setAttribute("viewBox", "0 0 " + width + " " + (top + plot + bottom));
    var bins = run.histogram;
    if (bins.length === 0) {
      label(width / 2, top + plot / 2, "no task ran", "middle", svg);
      return;
    }
    var most = Math.max.apply(null, bins.map(function (bin) { return bin[2]; }));
    var slot = (width - left - right) / bins.length;
    bins.forEach(function (bin, index) {
      var tall = most > 0 ? bin[2] / most * plot : 0;
      var rect = element("rect", {
        x: left + index * slot + 1, y: top + plot - tall, width: Math.max(1, slot - 2),
        height: tall, class: bin[3] ? "bin tail" : "bin"
      }, svg);
      tooltip(rect, bin[2] + " task(s) from " + seconds(bin[0]) + " to " + seconds(bin[1]) +
        (bin[3] ? " (slow tail)" : ""));
    });
    element("line", { x1: left, y1: top + plot, x2: width - right, y2: top + plot, class: "axis" }, svg);
    label(left - 6, top + 10, String(most), "end", svg);
    label(left - 6, top + plot, "0", "end", svg);
    label(left, top + plot + 18, seconds(bins[0][0]), "start", svg);
    label(width - right, top + plot + 18, seconds(bins[bins.length - 1][1]), "end", svg);
    label((width + left) / 2, top + plot + 32, "task time", "middle", svg);
  }

  var panels = document.querySelectorAll(".run");
  data.runs.forEach(function (run, index) {
    var panel = panels[index];
    drawTimeline(panel.querySelector("svg.timeline"), run);
    drawHistogram(panel.querySelector("svg.histogram"), run);
    panel.setAttribute("data-bars", String(panel.querySelectorAll("svg.timeline rect.bar").length));
  });
  document.body.setAttribute("data-drawn", "yes");
})();
