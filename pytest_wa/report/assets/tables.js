/* pytest-wa HTML report: tables that stay fast for 10,000 rows. Filtering and sorting work on
   the data; only the rows of the current page become DOM (with their plots), so a big run
   costs a few milliseconds a page. A row with an ``expand`` opens a detail row under it. */
(function (WA) {
  'use strict';

  /* options: {id, rows, columns: [{title, cell(row) -> Node|string, sort(row), num}],
     search(row) -> text, filters: [{label, choices, test(row, choice)}],
     expand(row) -> Node, pageSize, rowClass(row)} */
  WA.Table = function (options) {
    this.options = options;
    this.sortColumn = null;
    this.descending = false;
    this.page = 0;
    this.pageSize = options.pageSize || 50;
    this.query = '';
    this.choices = (options.filters || []).map(function () { return ''; });
    this.root = WA.el('div', {'class': 'table-box', id: options.id});
    this.toolbar = WA.el('div', {'class': 'toolbar'});
    this.table = WA.el('table', {'class': 'grid'});
    this.body = WA.el('tbody');
    var scroll = WA.el('div', {'class': 'scroll'});
    scroll.appendChild(this.table);
    this.root.appendChild(this.toolbar);
    this.root.appendChild(scroll);
    this.buildToolbar();
    this.buildHead();
    this.table.appendChild(this.body);
    this.refresh();
  };

  WA.Table.prototype.buildToolbar = function () {
    var self = this, bar = this.toolbar;
    var search = WA.el('input', {type: 'search', placeholder: 'filter: any words in a row', 'aria-label': 'filter'});
    search.addEventListener('input', function () { self.query = search.value.toLowerCase(); self.page = 0; self.refresh(); });
    bar.appendChild(search);
    (this.options.filters || []).forEach(function (filter, k) {
      var select = WA.el('select', {'aria-label': filter.label});
      select.appendChild(WA.el('option', {value: ''}, filter.label + ': all'));
      filter.choices.forEach(function (c) { select.appendChild(WA.el('option', {value: c}, c)); });
      select.addEventListener('change', function () { self.choices[k] = select.value; self.page = 0; self.refresh(); });
      bar.appendChild(select);
    });
    this.count = WA.el('span', {'class': 'muted'});
    this.pager = WA.el('span', {'class': 'pager'});
    bar.appendChild(this.count);
    bar.appendChild(this.pager);
  };

  WA.Table.prototype.buildHead = function () {
    var self = this, row = WA.el('tr');
    this.options.columns.forEach(function (column, k) {
      var cell = WA.el('th', {scope: 'col'}, column.title);
      if (column.help) { cell.setAttribute('title', column.help); }
      cell.addEventListener('click', function () { self.sortBy(k); });
      row.appendChild(cell);
    });
    var head = WA.el('thead');
    head.appendChild(row);
    this.table.appendChild(head);
    this.heads = row.children;
  };

  WA.Table.prototype.sortBy = function (k) {
    this.descending = this.sortColumn === k ? !this.descending : false;
    this.sortColumn = k;
    Array.prototype.forEach.call(this.heads, function (h) { h.className = ''; });
    this.heads[k].className = this.descending ? 'sorted-desc' : 'sorted-asc';
    this.page = 0;
    this.refresh();
  };

  function compare(a, b) {
    var aNone = a === null || a === undefined, bNone = b === null || b === undefined;
    if (aNone || bNone) { return aNone - bNone; }  /* empty cells last */
    return a < b ? -1 : a > b ? 1 : 0;
  }

  WA.Table.prototype.visible = function () {
    var o = this.options, query = this.query, choices = this.choices;
    var found = o.rows.filter(function (row) {
      if (query && o.search(row).toLowerCase().indexOf(query) < 0) { return false; }
      return (o.filters || []).every(function (f, k) { return !choices[k] || f.test(row, choices[k]); });
    });
    if (this.sortColumn !== null) {
      var key = o.columns[this.sortColumn].sort, sign = this.descending ? -1 : 1;
      found = found.map(function (row, i) { return [key(row), i, row]; });
      found.sort(function (a, b) {
        var none = (a[0] === null || a[0] === undefined) - (b[0] === null || b[0] === undefined);
        return none || sign * compare(a[0], b[0]) || a[1] - b[1];
      });
      found = found.map(function (item) { return item[2]; });
    }
    return found;
  };

  WA.Table.prototype.refresh = function () {
    var rows = this.visible(), pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    var first = this.page * this.pageSize, shown = rows.slice(first, first + this.pageSize);
    this.body.textContent = '';
    shown.forEach(this.addRow, this);
    this.count.textContent = rows.length === this.options.rows.length ?
      rows.length + ' rows' : rows.length + ' of ' + this.options.rows.length + ' rows';
    this.buildPager(pages);
  };

  WA.Table.prototype.buildPager = function (pages) {
    var self = this;
    this.pager.textContent = '';
    if (pages < 2) { return; }
    [['\u00ab', 0], ['\u2039', this.page - 1], ['\u203a', this.page + 1], ['\u00bb', pages - 1]].forEach(function (b, i) {
      var button = WA.el('button', {type: 'button'}, b[0]);
      button.disabled = b[1] < 0 || b[1] >= pages || b[1] === self.page;
      button.addEventListener('click', function () { self.page = b[1]; self.refresh(); });
      self.pager.appendChild(button);
      if (i === 1) { self.pager.appendChild(document.createTextNode(' page ' + (self.page + 1) + ' of ' + pages + ' ')); }
    });
  };

  WA.Table.prototype.addRow = function (row) {
    var o = this.options, tr = WA.el('tr', {'class': 'row' + (o.expand ? ' expandable' : '')});
    o.columns.forEach(function (column) {
      var value = column.cell(row), td = WA.el('td', {'class': column.num ? 'num' : column.css || ''});
      if (value instanceof Node) { td.appendChild(value); } else { td.textContent = value; }
      if (column.cellClass) { td.className += ' ' + column.cellClass(row); }
      tr.appendChild(td);
    });
    this.body.appendChild(tr);
    if (!o.expand) { return; }
    var detail = null;
    tr.addEventListener('click', function (event) {
      if (event.target.closest('a')) { return; }
      if (detail) { detail.remove(); detail = null; return; }
      detail = WA.el('tr', {'class': 'detail'});
      var td = WA.el('td', {colspan: o.columns.length});
      td.appendChild(o.expand(row));
      detail.appendChild(td);
      tr.after(detail);
    });
  };
})(window.WA = window.WA || {});
