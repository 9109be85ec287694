/* pytest-wa HTML report: the metrics table, the instruments' plots and the jobs table; then
   the page is built (WA.start, report.js) and marked rendered for whoever waits on it. */
(function (WA) {
  'use strict';
  var fmt = WA.fmt;

  function margin(row) { return row.hi === null ? null : row.hi - row.mean; }

  function percent(v) { return v === null || v === undefined ? '\u2013' : (100 * v).toFixed(2) + '%'; }

  function signed(v) { return v === null || v === undefined ? '\u2013' : (v >= 0 ? '+' : '') + v.toFixed(1) + '%'; }

  function metricName(r) {
    var box = WA.el('span', {}, r.name);
    if (r.cls) { box.appendChild(WA.el('div', {'class': 'classifiers'}, r.cls)); }
    return box;
  }

  function metricColumns(baseline) {
    var columns = [
      {title: 'job', css: 'nowrap', cell: function (r) { return r.job + '-' + r.label; }, sort: function (r) { return r.job; }},
      {title: 'metric', cell: metricName, sort: function (r) { return r.name + ' ' + r.cls; },
       help: 'the metric, and below it the classifiers that tell apart metrics of one name (a CPU, a policy)'},
      {title: 'units', cell: function (r) { return r.units; }, sort: function (r) { return r.units; }},
      {title: 'n', num: true, cell: function (r) { return String(r.n); }, sort: function (r) { return r.n; }},
      {title: 'mean', num: true, cell: function (r) { return fmt(r.mean); }, sort: function (r) { return r.mean; }},
      {title: '\u00b195%', num: true, help: 'half the 95% confidence interval of the mean',
       cell: function (r) { return fmt(margin(r)); }, sort: margin},
      {title: 'cv', num: true, cell: function (r) { return percent(r.cv); }, sort: function (r) { return r.cv; }},
      {title: 'min', num: true, cell: function (r) { return fmt(r.min); }, sort: function (r) { return r.min; }},
      {title: 'max', num: true, cell: function (r) { return fmt(r.max); }, sort: function (r) { return r.max; }},
      {title: 'stdev', num: true, cell: function (r) { return fmt(r.stdev); }, sort: function (r) { return r.stdev; }},
      {title: 'iterations', cell: function (r) { return WA.metricPlot(r, baseline ? 200 : 150, 34, false); },
       sort: function (r) { return r.n; }}];
    if (baseline) {
      columns.push({title: 'baseline', num: true, cell: function (r) { return r.base ? fmt(r.base.mean) : '\u2013'; },
                    sort: function (r) { return r.base ? r.base.mean : null; }});
      columns.push({title: 'change', num: true, cell: function (r) { return r.v ? signed(r.v.change) : '\u2013'; },
                    sort: function (r) { return r.v ? r.v.change : null; }});
      columns.push({title: 'verdict', cell: function (r) { return r.v ? r.v.verdict : ''; },
                    cellClass: function (r) { return r.v ? 'verdict v-' + r.v.verdict : ''; },
                    sort: function (r) { return r.v ? r.v.verdict : null; }});
    }
    columns.push({title: 'unstable', help: 'CV above 5%, a trend across iterations, outliers (click the row for details)',
                  cell: function (r) { return r.flags.join(', '); },
                  cellClass: function () { return 'flag'; }, sort: function (r) { return r.problems.length || null; }});
    return columns;
  }

  function metricDetail(row) {
    var box = WA.el('div', {'class': 'plot-row'});
    box.appendChild(WA.metricPlot(row, Math.min(760, WA.width() - 40), 260, true));
    var v = row.v, lines = [
      'values: ' + row.y.map(fmt).join(', '), 'median ' + fmt(row.median) + ', 95% CI of the mean ' +
        (row.lo === null ? '\u2013' : fmt(row.lo) + ' \u2013 ' + fmt(row.hi)),
      'trend (Mann-Kendall p): ' + fmt(row.trend), row.lib ? 'lower is better' : 'higher is better'];
    if (row.out.length) { lines.push('outliers at iteration ' + row.out.map(function (i) { return i + 1; }).join(', ')); }
    if (row.base) { lines.push('baseline values: ' + row.base.y.map(fmt).join(', ')); }
    if (v) {
      lines.push('verdict ' + v.verdict + ': change ' + signed(v.change) + ', 95% CI of the change ' +
                 (v.ci ? signed(v.ci[0]) + ' \u2026 ' + signed(v.ci[1]) : '\u2013') + ', p ' + fmt(v.p) +
                 ', threshold \u00b1' + v.threshold + '%');
    }
    var text = WA.el('div');
    lines.concat(row.problems.map(function (p) { return 'unstable: ' + p; })).forEach(function (line) {
      text.appendChild(WA.el('div', {}, line));
    });
    box.appendChild(text);
    return box;
  }

  WA.metricsSection = function (box, data) {
    if (!data.metrics.length) { box.appendChild(WA.el('p', {'class': 'note'}, 'No metric was recorded by a job that ended OK.')); return; }
    var baseline = data.baseline && !data.baseline.error;
    var filters = [{label: 'stability', choices: ['unstable', 'stable'],
                    test: function (r, c) { return (r.problems.length > 0) === (c === 'unstable'); }}];
    if (baseline && data.baseline.counts) {
      filters.push({label: 'verdict', choices: ['regressed', 'improved', 'unchanged', 'inconclusive'],
                    test: function (r, c) { return r.v && r.v.verdict === c; }});
    }
    box.appendChild(WA.el('p', {'class': 'note'}, 'Statistics over the iterations that ended OK; each plot shows the iterations' +
      (baseline ? ' (the baseline\u2019s on the left, in grey)' : '') + ', the mean (line) and its 95% confidence interval (band). ' +
      'Click a row for a larger plot and the numbers.'));
    var table = new WA.Table({id: 'metrics-table', rows: data.metrics, columns: metricColumns(baseline), filters: filters,
      search: function (r) { return r.job + ' ' + r.label + ' ' + r.name + ' ' + r.cls + ' ' + r.units; },
      expand: metricDetail, pageSize: 50});
    box.appendChild(table.root);
  };

  /* Charts two a row under a heading: ``draw(chart, width)`` gives each one's nodes. */
  function grid(box, title, charts, width, draw, note) {
    if (!charts.length) { return; }
    box.appendChild(WA.el('h3', {}, title));
    var row = WA.el('div', {'class': 'plot-row'}), half = Math.max(420, Math.floor((width - 30) / 2));
    charts.forEach(function (chart) {
      var cell = WA.el('div');
      cell.appendChild(WA.el('div', {}, chart.name + ' (' + chart.units + ')'));
      draw(chart, half).forEach(function (node) { cell.appendChild(node); });
      row.appendChild(cell);
    });
    box.appendChild(row);
    if (note) { box.appendChild(WA.el('p', {'class': 'note'}, note)); }
  }

  WA.instrumentsSection = function (box, data, width) {
    data.residency.forEach(function (chart) {
      box.appendChild(WA.el('h3', {}, chart.title));
      box.appendChild(WA.stackedBars(chart, width));
      box.appendChild(WA.el('p', {'class': 'note'}, 'Mean over the iterations that ended OK; darker is higher. Hover for the shares.'));
    });
    grid(box, 'Energy and power', data.energy, width, function (chart, side) {
      return [WA.meanBars(chart.rows.map(function (i) { return data.metrics[i]; }), side)];
    }, 'Bars: mean over the iterations that ended OK; whiskers: its 95% CI; grey marks: the baseline\u2019s mean.');
    grid(box, 'Temperature at each job, over the run', data.temperature, width, function (chart, side) {
      return [WA.lines(chart, side), WA.legend(chart.series.map(function (s) { return s.label; }))];
    });
  };

  function jobLinks(job, links) {
    var box = WA.el('span', {'class': 'links'});
    if (job.dir) { box.appendChild(WA.el('a', {href: WA.data.run.base + job.dir + '/'}, 'directory')); }
    box.appendChild(links(job.art, ''));
    job.att.forEach(function (a) {
      box.appendChild(WA.el('a', {href: WA.data.run.base + a[2] + '/'}, 'attempt ' + a[0] + ' (' + a[1] + ')'));
    });
    return box;
  }

  function duration(j) { return j.t0 === null || j.t1 === null ? null : j.t1 - j.t0; }

  WA.jobsSection = function (box, data, links, clock, statusClass) {
    var devices = data.devices;
    var columns = [
      {title: 'job', css: 'nowrap', cell: function (j) { return j.id + '-' + j.label; }, sort: function (j) { return j.id; }},
      {title: 'iteration', num: true, cell: function (j) { return String(j.it); }, sort: function (j) { return j.it; }},
      {title: 'status', cell: function (j) { return j.status; }, cellClass: function (j) { return 'status-cell ' + statusClass(j.status); },
       sort: function (j) { return j.status; }},
      {title: 'device', cell: function (j) { return devices[j.dev]; }, sort: function (j) { return devices[j.dev]; }},
      {title: 'start (UTC)', css: 'nowrap', cell: function (j) { return clock(j.t0); }, sort: function (j) { return j.t0; }},
      {title: 'seconds', num: true, cell: function (j) { return fmt(duration(j)); }, sort: duration},
      {title: 'retries', num: true, cell: function (j) { return String(j.retries); }, sort: function (j) { return j.retries; }},
      {title: 'artifacts', cell: function (j) { return jobLinks(j, links); }, sort: function (j) { return j.art.length; }},
      {title: 'events', cell: function (j) { return j.ev.join(' | '); }, cellClass: function () { return 'events'; },
       sort: function (j) { return j.ev.length || null; }}];
    var seen = data.statuses.map(function (s) { return s[0]; });
    var filters = [{label: 'status', choices: seen, test: function (j, c) { return j.status === c; }}];
    if (devices.length > 1) { filters.push({label: 'device', choices: devices, test: function (j, c) { return devices[j.dev] === c; }}); }
    var table = new WA.Table({id: 'jobs-table', rows: data.jobs, columns: columns, filters: filters, pageSize: 100,
      search: function (j) { return j.id + '-' + j.label + '-' + j.it + ' ' + j.status + ' ' + devices[j.dev] + ' ' + j.ev.join(' '); }});
    box.appendChild(table.root);
  };

  WA.start();
  document.documentElement.setAttribute('data-rendered', String(Math.round(performance.now())));
})(window.WA = window.WA || {});
