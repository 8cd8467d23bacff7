/* Draws the course's figures in static pages and slides (no kernel, no network) with plotly.js, and gives each
 * animation keyboard controls: Play and Pause buttons and a step slider (Tab to them; Enter, Space and the
 * arrow keys work). Each <figure class="ls-figure"> holds its figure as JSON in <script class="ls-spec">. */
(function () {
  "use strict";

  // plotly.js rejects the promise of an animation that another one interrupts (Pause, a new step): expected
  function quiet() {}

  function stepLabels(spec) {
    var sliders = (spec.layout && spec.layout.sliders) || [];
    var steps = sliders.length ? sliders[0].steps || [] : [];
    // a step's time is its value (only a few steps carry a label, as a scale under the slider)
    return steps.map(function (s) { return s.value !== undefined ? s.value : s.label; });
  }

  function frameMs(spec) {
    try {
      return spec.layout.updatemenus[0].buttons[0].args[1].frame.duration || 150;
    } catch (e) {
      return 150;
    }
  }

  function wire(figure, plot, spec) {
    var names = spec.frames.map(function (f) { return f.name; });
    var labels = stepLabels(spec);
    var step = figure.querySelector(".ls-step");
    var now = figure.querySelector(".ls-now");
    var ms = frameMs(spec);
    function say(i) {
      step.value = String(i);
      now.textContent = "time: " + (labels[i] !== undefined ? labels[i] : names[i]);
    }
    function show(i) {
      Plotly.animate(plot, [names[i]], {frame: {duration: 0, redraw: true}, transition: {duration: 0},
                                        mode: "immediate"}).catch(quiet);
      say(i);
    }
    plot.on("plotly_animatingframe", function (event) {
      var i = names.indexOf(String(event.name));
      if (i >= 0) { say(i); }
    });
    figure.querySelector(".ls-play").addEventListener("click", function () {
      var from = Number(step.value) >= names.length - 1 ? 0 : Number(step.value);
      Plotly.animate(plot, names.slice(from), {frame: {duration: ms, redraw: true}, transition: {duration: 0},
                                               mode: "immediate"}).catch(quiet);
    });
    figure.querySelector(".ls-pause").addEventListener("click", function () {
      Plotly.animate(plot, [null], {frame: {duration: 0, redraw: false}, transition: {duration: 0},
                                    mode: "immediate"}).catch(quiet);
    });
    step.addEventListener("input", function () { show(Number(step.value)); });
    // keys pressed on the controls belong to them, not to the slide show around them
    figure.querySelector(".ls-controls").addEventListener("keydown", function (event) {
      event.stopPropagation();
    });
    say(0);
  }

  function draw(figure) {
    if (figure.dataset.drawn) { return Promise.resolve(); }
    figure.dataset.drawn = "1";
    var spec = JSON.parse(figure.querySelector(".ls-spec").textContent);
    var plot = figure.querySelector(".ls-plot");
    var config = {displaylogo: false, responsive: true};
    if (figure.closest(".reveal")) {  // a slide is 900 px high: leave room for the controls and the caption
      spec.layout.height = Math.min(spec.layout.height || 450, 560);
    }
    return Plotly.newPlot(plot, spec.data, spec.layout, config).then(function () {
      if (spec.frames && spec.frames.length) {
        return Plotly.addFrames(plot, spec.frames).then(function () { wire(figure, plot, spec); });
      }
      return undefined;
    }).then(function () { figure.dataset.ready = "1"; });
  }

  function drawAll(root) {
    var figures = (root || document).querySelectorAll("figure.ls-figure");
    return Promise.all(Array.prototype.map.call(figures, draw));
  }

  function resize(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".ls-plot.js-plotly-plot"), function (p) {
      Plotly.Plots.resize(p);
    });
  }

  window.labsupportFigures = {draw: draw, drawAll: drawAll, resize: resize};
})();
