/* pytest-wa HTML report: SVG plots, drawn from the embedded data when a section needs them.
   No library: a few scales and shapes. Every plot is an <svg class="plot ..."> (tests look
   for them) with <title> tooltips giving the numbers. */
(function (WA) {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#1565c0', '#e65100', '#2e7d32', '#6a1b9a', '#c62828', '#00838f',
                 '#9e7c00', '#4e342e', '#ad1457', '#37474f'];

  WA.el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  };

  function svg(tag, attrs, parent) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function titled(node, text) {
    svg('title', {}, node).textContent = text;
    return node;
  }

  function text(parent, x, y, words, anchor) {
    var node = svg('text', {x: x, y: y, 'text-anchor': anchor || 'start'}, parent);
    node.textContent = words;
    return node;
  }

  /* Six significant digits, trailing zeros dropped: the terminal's and compare's format. */
  WA.fmt = function (v) {
    if (v === null || v === undefined || !isFinite(v)) { return '\u2013'; }
    return String(Number(Number(v).toPrecision(6)));
  };

  function scale(d0, d1, r0, r1) {
    var span = d1 - d0 || 1;
    return function (v) { return r0 + (v - d0) * (r1 - r0) / span; };
  }

  /* [low, high] of the numbers given (nulls skipped), widened when flat. */
  function extent(values) {
    var seen = values.filter(function (v) { return v !== null && v !== undefined && isFinite(v); });
    if (!seen.length) { return [0, 1]; }
    var low = Math.min.apply(null, seen), high = Math.max.apply(null, seen);
    var pad = (high - low) * 0.08 || Math.abs(high) * 0.05 || 1;
    return [low - pad, high + pad];
  }

  /* About ``count`` round values (1, 2 or 5 times a power of ten apart) in [low, high]. */
  function ticks(low, high, count) {
    var span = high - low;
    if (!(span > 0)) { return [low]; }
    var raw = span / count, magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var ratio = raw / magnitude;
    var step = (ratio <= 1 ? 1 : ratio <= 2 ? 2 : ratio <= 5 ? 5 : 10) * magnitude;
    var found = [];
    for (var v = Math.ceil(low / step) * step; v <= high && found.length < 50; v += step) {
      found.push(Number(v.toPrecision(12)));
    }
    return found;
  }

  function yAxis(plot, y, domain, left, right) {
    ticks(domain[0], domain[1], 4).forEach(function (v) {
      svg('line', {x1: left, x2: right, y1: y(v), y2: y(v), 'class': 'grid-line'}, plot);
      text(plot, left - 4, y(v) + 4, WA.fmt(v), 'end');
    });
  }

  /* One run's iterations in [left, right]: the CI band, the mean, the points. */
  function panel(plot, values, stats, x0, x1, y, base, detailed, units) {
    var cls = base ? ' base' : '', n = values.length, out = stats.out || [];
    if (stats.lo !== null && stats.lo !== undefined) {
      titled(svg('rect', {x: x0, width: x1 - x0, y: y(stats.hi), height: Math.max(1, y(stats.lo) - y(stats.hi)),
                          'class': 'ci' + cls}, plot), '95% CI of the mean: ' + WA.fmt(stats.lo) + ' \u2013 ' + WA.fmt(stats.hi));
    }
    if (stats.mean !== null) {
      titled(svg('line', {x1: x0, x2: x1, y1: y(stats.mean), y2: y(stats.mean), 'class': 'mean' + cls}, plot),
             'mean ' + WA.fmt(stats.mean) + ' ' + (units || ''));
    }
    var radius = detailed ? 3.5 : (n > 40 ? 1.2 : 2);
    values.forEach(function (v, i) {
      if (v === null) { return; }
      var outlier = !base && out.indexOf(i) >= 0;
      var dot = svg('circle', {cx: x0 + (i + 0.5) * (x1 - x0) / n, cy: y(v), r: radius,
                               'class': 'pt' + cls + (outlier ? ' out' : '')}, plot);
      if (detailed) { titled(dot, (base ? 'baseline ' : '') + 'iteration ' + (i + 1) + ': ' + WA.fmt(v) + ' ' + (units || '')); }
    });
  }

  /* A metric's iterations (and the baseline's beside them, on the left): points, mean, CI. */
  WA.metricPlot = function (row, width, height, detailed) {
    var base = row.base, pad = detailed ? {l: 64, r: 10, t: 18, b: 20} : {l: 2, r: 2, t: 2, b: 2};
    var plot = svg('svg', {width: width, height: height, 'class': 'plot metric-plot', role: 'img'});
    var all = row.y.concat([row.lo, row.hi]);
    if (base) { all = all.concat(base.y, [base.lo, base.hi]); }
    var domain = extent(all), y = scale(domain[0], domain[1], height - pad.b, pad.t);
    var left = pad.l, right = width - pad.r, split = base ? left + (right - left) * 0.4 : left;
    if (detailed) { yAxis(plot, y, domain, left, right); }
    if (base) {
      panel(plot, base.y, base, left, split - 4, y, true, detailed, row.units);
      svg('line', {x1: split, x2: split, y1: pad.t, y2: height - pad.b, 'class': 'axis'}, plot);
    }
    panel(plot, row.y, row, split + (base ? 4 : 0), right, y, false, detailed, row.units);
    if (detailed) {
      if (base) { text(plot, (left + split) / 2, 12, 'baseline (n=' + base.n + ')', 'middle'); }
      text(plot, (split + right) / 2, 12, 'this run (n=' + row.n + ')', 'middle');
      text(plot, (split + right) / 2, height - 4, 'iterations, in order', 'middle');
    }
    if (!detailed) { titled(plot, row.name + ': ' + row.n + ' values, mean ' + WA.fmt(row.mean)); }
    return plot;
  };

  function timeAxis(plot, x, end, top, bottom) {
    ticks(0, end, 8).forEach(function (t) {
      svg('line', {x1: x(t), x2: x(t), y1: top, y2: bottom, 'class': 'grid-line'}, plot);
      text(plot, x(t), bottom + 12, WA.fmt(t) + ' s', 'middle');
    });
  }

  /* A lane per device, a bar per job from its start to its end, coloured by status. */
  WA.timeline = function (jobs, devices, width) {
    var lane = 20, label = 130, top = 4, height = top + devices.length * lane + 18;
    var timed = jobs.filter(function (j) { return j.t0 !== null && j.t1 !== null; });
    var end = Math.max.apply(null, timed.map(function (j) { return j.t1; }).concat([0.001]));
    var plot = svg('svg', {width: width, height: height, 'class': 'plot timeline', role: 'img'});
    var x = scale(0, end, label, width - 10);
    devices.forEach(function (name, i) {
      svg('rect', {x: label, y: top + i * lane, width: width - 10 - label, height: lane - 4, 'class': 'lane'}, plot);
      text(plot, label - 6, top + i * lane + 12, name, 'end');
    });
    timeAxis(plot, x, end, top, height - 18);
    timed.forEach(function (j) {
      var known = WA.STATUSES.indexOf(j.status) >= 0 ? j.status : 'other';
      var wide = x(j.t1) - x(j.t0);
      titled(svg('rect', {x: x(j.t0), y: top + j.dev * lane + 1, width: Math.max(1, wide),
                          height: lane - 6, 'class': 'job st-' + known + (wide > 4 ? ' wide' : '')}, plot),
             j.id + '-' + j.label + '-' + j.it + ' ' + j.status + ': ' + WA.fmt(j.t0) + ' s \u2013 ' + WA.fmt(j.t1) + ' s');
    });
    return plot;
  };

  /* Residency: a bar per (job, group) split into its bins; darker is a higher bin. */
  WA.stackedBars = function (chart, width) {
    var row = 18, label = 260, height = chart.bars.length * row + 4;
    var plot = svg('svg', {width: width, height: height, 'class': 'plot residency', role: 'img'});
    var most = Math.max.apply(null, [100].concat(chart.bars.map(function (bar) {
      return bar.bins.reduce(function (sum, bin) { return sum + (bin[1] || 0); }, 0);
    })));
    var x = scale(0, most, label, width - 10);
    chart.bars.forEach(function (bar, i) {
      text(plot, label - 6, i * row + 13, bar.job + ' \u00b7 ' + bar.group, 'end');
      var at = 0;
      bar.bins.forEach(function (bin, k) {
        var share = bin[1] || 0, shade = bin[2];
        var fill = shade === null ? '#ffb74d' : 'hsl(212, 70%, ' + (85 - Math.round(60 * shade)) + '%)';
        titled(svg('rect', {x: x(at), y: i * row + 2, width: Math.max(0, x(at + share) - x(at)), height: row - 4,
                            fill: fill, 'class': 'segment'}, plot), bar.group + ' ' + bin[0] + ': ' + WA.fmt(share) + ' %');
        at += share;
      });
    });
    return plot;
  };

  /* A bar per metric row (mean), its 95 % CI as a whisker, the baseline's mean as a mark. */
  WA.meanBars = function (rows, width) {
    var row = 20, label = 170, height = rows.length * row + 22;
    var highs = rows.map(function (r) { return Math.max(r.hi || 0, r.mean || 0, r.base ? r.base.mean || 0 : 0); });
    var plot = svg('svg', {width: width, height: height, 'class': 'plot bars', role: 'img'});
    var x = scale(0, Math.max.apply(null, highs.concat([0])) * 1.05 || 1, label, width - 10);
    valueAxis(plot, x, highs, height);
    rows.forEach(function (r, i) {
      var y0 = i * row + 3;
      titled(text(plot, label - 6, y0 + 12, r.job + '-' + r.label, 'end'), r.job + '-' + r.label + (r.cls ? ' [' + r.cls + ']' : ''));
      titled(svg('rect', {x: x(0), y: y0, width: Math.max(0, x(r.mean || 0) - x(0)), height: row - 6, 'class': 'bar'}, plot),
             'mean ' + WA.fmt(r.mean) + ' ' + r.units + ' (n=' + r.n + ')');
      if (r.lo !== null) { svg('line', {x1: x(r.lo), x2: x(r.hi), y1: y0 + 7, y2: y0 + 7, 'class': 'whisker'}, plot); }
      if (r.base) {
        titled(svg('line', {x1: x(r.base.mean), x2: x(r.base.mean), y1: y0 - 1, y2: y0 + row - 5, 'class': 'base-mark'}, plot),
               'baseline mean ' + WA.fmt(r.base.mean));
      }
    });
    return plot;
  };

  function valueAxis(plot, x, highs, height) {
    var top = Math.max.apply(null, highs.concat([0])) * 1.05 || 1;
    ticks(0, top, 5).forEach(function (v) {
      svg('line', {x1: x(v), x2: x(v), y1: 0, y2: height - 16, 'class': 'grid-line'}, plot);
      text(plot, x(v), height - 4, WA.fmt(v), 'middle');
    });
  }

  /* Lines over the run's time: a series per side/device, one point a job. */
  WA.lines = function (chart, width) {
    var height = 220, pad = {l: 64, r: 10, t: 10, b: 22};
    var all = [], end = 1;
    chart.series.forEach(function (s) { s.points.forEach(function (p) { all.push(p[1]); end = Math.max(end, p[0]); }); });
    var domain = extent(all), y = scale(domain[0], domain[1], height - pad.b, pad.t);
    var x = scale(0, end, pad.l, width - pad.r);
    var plot = svg('svg', {width: width, height: height, 'class': 'plot lines', role: 'img'});
    yAxis(plot, y, domain, pad.l, width - pad.r);
    timeAxis(plot, x, end, pad.t, height - pad.b);
    chart.series.forEach(function (s, k) {
      var path = s.points.filter(function (p) { return p[1] !== null; })
        .map(function (p, i) { return (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1); }).join('');
      var line = {d: path || 'M0,0', stroke: PALETTE[k % PALETTE.length], 'class': 'series'};
      if (k % 2) { line['stroke-dasharray'] = '6,3'; }  /* lines that coincide stay apart */
      titled(svg('path', line, plot),
             s.label + ' (' + s.points.length + ' jobs)');
    });
    return plot;
  };

  WA.legend = function (labels) {
    var box = WA.el('div', {'class': 'legend'});
    labels.forEach(function (name, k) {
      var item = WA.el('span');
      item.appendChild(WA.el('i', {style: 'background:' + PALETTE[k % PALETTE.length]}));
      item.appendChild(document.createTextNode(name));
      box.appendChild(item);
    });
    return box;
  };
})(window.WA = window.WA || {});
