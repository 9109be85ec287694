/* pytest-wa HTML report: the page, built from the JSON in #wa-data (pytest_wa/report/). */
(function (WA) {
  'use strict';
  var data = JSON.parse(document.getElementById('wa-data').textContent);
  var main = document.getElementById('report');
  var run = data.run;
  WA.STATUSES = ['OK', 'NONCRITICAL', 'PARTIAL', 'FAILED', 'ABORTED', 'SKIPPED'];
  var VERDICTS = ['regressed', 'improved', 'unchanged', 'inconclusive'];

  /* The width plots may take: a section's (the page's content box). */
  function width() {
    var box = document.getElementById('run');
    return Math.max(480, Math.min(box ? box.clientWidth : 1000, 1400));
  }

  function section(id, title) {
    var box = WA.el('section', {id: id});
    box.appendChild(WA.el('h2', {}, title));
    main.appendChild(box);
    return box;
  }

  function statusClass(status) { return 'st-' + (WA.STATUSES.indexOf(status) >= 0 ? status : 'other'); }

  function badge(words, cls) { return WA.el('span', {'class': cls}, words); }

  function links(items, base) {
    var box = WA.el('span', {'class': 'links'});
    items.forEach(function (item) {
      box.appendChild(WA.el('a', {href: run.base + base + item[1], title: item[2] || ''}, item[0]));
    });
    return box;
  }

  function facts(pairs) {
    var list = WA.el('dl', {'class': 'facts'});
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === '') { return; }
      list.appendChild(WA.el('dt', {}, pair[0]));
      var dd = WA.el('dd');
      if (pair[1] instanceof Node) { dd.appendChild(pair[1]); } else { dd.textContent = pair[1]; }
      list.appendChild(dd);
    });
    return list;
  }

  function clock(seconds) {
    if (seconds === null || seconds === undefined) { return '\u2013'; }
    if (!run.start) { return WA.fmt(seconds) + ' s'; }
    return new Date(Date.parse(run.start) + seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
  }

  function nav() {
    var bar = WA.el('nav');
    [['run', 'Run'], ['metrics', 'Metrics'], ['timeline', 'Timeline'], ['instruments', 'Instruments'],
     ['jobs', 'Jobs']].forEach(function (item) {
      if (item[0] !== 'instruments' || hasInstruments()) { bar.appendChild(WA.el('a', {href: '#' + item[0]}, item[1])); }
    });
    main.appendChild(bar);
  }

  function hasInstruments() { return data.residency.length + data.energy.length + data.temperature.length > 0; }

  function runSection() {
    var box = section('run', 'Run');
    var status = badge(run.status, 'status-cell ' + statusClass(run.status));
    status.setAttribute('style', 'padding: 0 0.6em; border-radius: 1em');
    var target = Object.keys(run.target).map(function (k) { return k + ' ' + run.target[k]; }).join(', ');
    var versions = Object.keys(run.versions).map(function (k) { return k + ' ' + run.versions[k]; }).join(', ');
    box.appendChild(facts([
      ['status', status], ['name', run.name], ['uuid', run.uuid], ['project', run.project],
      ['started', run.start ? clock(0) + ' UTC' : null], ['ended', run.end ? run.end.replace('T', ' ').slice(0, 19) + ' UTC' : null],
      ['duration', run.duration === null ? null : WA.fmt(run.duration) + ' s'],
      ['devices', data.devices.join(', ')], ['target', target], ['versions', versions],
      ['command line', run.command_line], ['agendas', run.agendas.join(', ')],
      ['directory', WA.el('a', {href: run.base || './'}, run.path)],
      ['run files', links(run.artifacts, '')]]));
    statuses(box);
    if (run.events.length) {
      box.appendChild(WA.el('h3', {}, 'Run events'));
      var list = WA.el('ul', {'class': 'events'});
      run.events.forEach(function (e) { list.appendChild(WA.el('li', {}, e)); });
      box.appendChild(list);
    }
  }

  /* A long list folded: how many, the first few, the rest on a click. */
  function listed(title, items) {
    var box = WA.el('details', {'class': 'note'});
    box.appendChild(WA.el('summary', {}, items.length + ' ' + title + ': ' + items.slice(0, 5).join(', ') +
                                      (items.length > 5 ? ', \u2026' : '')));
    if (items.length > 5) { box.appendChild(WA.el('p', {}, items.join(', '))); }
    return box;
  }

  function statuses(box) {
    box.appendChild(WA.el('h3', {}, 'Statuses'));
    var row = WA.el('div', {'class': 'badges', id: 'statuses'}), total = 0;
    data.statuses.forEach(function (s) { total += s[1]; row.appendChild(badge(s[1] + ' ' + s[0], statusClass(s[0]))); });
    box.appendChild(WA.el('p', {}, 'Ran a total of ' + total + ' iteration' + (total === 1 ? '' : 's') + ':'));
    box.appendChild(row);
    if (data.left_out.length) { box.appendChild(listed('left out of the statistics (not OK)', data.left_out)); }
  }

  function baselineSection() {
    var b = data.baseline;
    if (!b) { return; }
    var box = section('baseline', 'Baseline');
    if (b.error) {
      box.appendChild(WA.el('p', {'class': 'error-note'}, 'Baseline ' + b.name + ' not shown: ' + b.error));
      return;
    }
    var per = Object.keys(b.per_metric).map(function (k) { return k + ' ' + b.per_metric[k] + '%'; }).join(', ');
    box.appendChild(facts([['baseline', b.name], ['threshold', b.threshold + '% of the baseline mean' + (per ? ' (' + per + ')' : '')],
                           ['metrics in common', String(b.common)]]));
    [['only in the baseline', b.only_baseline], ['only in this run', b.only_this],
     ['left out of the baseline (not OK)', b.left_out]].forEach(function (item) {
      if (item[1].length) { box.appendChild(listed(item[0], item[1])); }
    });
    if (b.note) { box.appendChild(WA.el('p', {'class': 'error-note'}, b.note)); }
    if (!b.counts) { return; }
    var row = WA.el('div', {'class': 'badges', id: 'verdicts'});
    VERDICTS.forEach(function (v) { row.appendChild(badge(b.counts[v] + ' ' + v, 'verdict v-' + v)); });
    box.appendChild(row);
  }

  WA.start = function () {
    nav();
    runSection();
    baselineSection();
    WA.metricsSection(section('metrics', 'Metrics'), data);
    var line = section('timeline', 'Timeline of jobs per device');
    line.appendChild(WA.timeline(data.jobs, data.devices, width()));
    line.appendChild(WA.el('p', {'class': 'note'}, 'A bar per job from its start to its end (seconds from the run\u2019s start), coloured by status; hover for the job.'));
    if (hasInstruments()) { WA.instrumentsSection(section('instruments', 'Instruments'), data, width()); }
    WA.jobsSection(section('jobs', 'Jobs and their artifacts'), data, links, clock, statusClass);
    main.appendChild(WA.el('p', {'class': 'muted'}, 'Generated ' + data.generated + ' by pytest-wa from ' + run.path + '.'));
  };
  WA.data = data;
  WA.width = width;
})(window.WA = window.WA || {});
