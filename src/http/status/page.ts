// Owns the status page's markup and script (the style is page-style.ts). It lives in a string so that the compiled output is all
// there is to deploy; the script only ever puts data into the DOM as text (job errors and repository names
// come from registries and webhooks), and runs under a CSP nonce instead of 'unsafe-inline'.

import { STYLE } from './page-style.js';

/** How often the page asks for fresh data. */
export const POLL_MS = 5000;

export function statusPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>swr-harbor-sync status</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">
${STYLE}
</style>
</head>
<body>
<header><h1>swr-harbor-sync</h1><span class="meta">status, refreshed every ${POLL_MS / 1000} s &middot; <span id="updated">loading&hellip;</span></span></header>
<main>
<div id="problem" role="alert"></div>
<section><h2>Jobs by state</h2><div class="counts" id="counts"></div></section>
<section id="throughput">
  <h2>Throughput, last hour (per 5 minutes)</h2>
  <p id="throughput-total" data-bytes="0" data-images="0"></p>
  <svg id="chart" viewBox="0 0 900 180" role="img" aria-label="bytes uploaded per 5 minutes"></svg>
</section>
<section>
  <h2>Recent jobs</h2>
  <table id="jobs-table">
    <thead><tr><th>Created</th><th>Job</th><th>Kind</th><th>Source</th><th>Destination</th><th>State</th><th>Progress</th><th>Attempts</th><th>Error</th></tr></thead>
    <tbody id="jobs"></tbody>
  </table>
  <p id="empty" hidden>No jobs yet.</p>
</section>
</main>
<script nonce="${nonce}">
${SCRIPT}
</script>
</body>
</html>
`;
}

// Plain ES2017 for any browser, no template literals (this is itself one). Every value from the service goes
// through textContent or a numeric attribute, never through innerHTML.
const SCRIPT = `(function () {
  'use strict';
  var POLL_MS = ${POLL_MS};
  var STATES = ['queued', 'running', 'succeeded', 'failed', 'skipped'];
  var SVG = 'http://www.w3.org/2000/svg';
  var polls = 0;

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function clock(d, seconds) { return pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : ''); }
  function when(iso) {
    if (!iso) return '';
    var d = new Date(iso), now = new Date();
    var day = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ';
    return (d.toDateString() === now.toDateString() ? '' : day) + clock(d, true);
  }
  function bytes(n) {
    n = Number(n) || 0;
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }
  function stateOf(s) { return STATES.indexOf(s) >= 0 ? s : 'queued'; }

  function source(job) {
    var s = job.spec || {};
    if (s.kind === 'delete') {
      return 'delete ' + s.project + '/' + s.repository + '@' + s.digest + (s.tags && s.tags.length ? ' (' + s.tags.join(', ') + ')' : '');
    }
    if (s.kind === 'image') {
      var tags = (s.tags && s.tags.length) ? s.tags.join(', ') : (s.digest || '');
      return s.project + '/' + s.repository + ':' + tags;
    }
    var scope = (s.repositories && s.repositories.length) ? s.repositories.join(', ') : 'whole project';
    var text = (s.project || job.project) + ' (' + scope + ')';
    if (s.tags && s.tags.length) text += ' tags ' + s.tags.join(', ');
    if (s.dryRun) text += ', dry run';
    return text;
  }
  function destination(job) {
    var s = job.spec || {};
    // With several destinations the job names its registry host; with one, the namespace says enough.
    var where = s.kind === 'image' || s.kind === 'delete' ? s.namespace + '/' + s.repository : (s.namespace || '');
    return s.destination ? s.destination + '/' + where : where;
  }

  function renderCounts(data) {
    var box = document.getElementById('counts');
    var cards = STATES.map(function (state) {
      var card = el('div', 'count ' + state);
      card.dataset.state = state;
      card.appendChild(el('span', 'n', (data.counts && data.counts[state]) || 0));
      card.appendChild(el('span', 'label', state));
      return card;
    });
    box.replaceChildren.apply(box, cards);
  }

  function renderThroughput(t) {
    var total = document.getElementById('throughput-total');
    total.dataset.bytes = String(t.total.bytes);
    total.dataset.images = String(t.total.images);
    total.textContent = t.total.images + ' image(s) copied, ' + bytes(t.total.bytes) + ' uploaded by ' + t.total.jobs + ' finished job(s)' +
      (t.total.failedImages ? ', ' + t.total.failedImages + ' image(s) failed' : '') + ' since ' + clock(new Date(t.since), false);
    var chart = document.getElementById('chart');
    // Drawn in CSS pixels at the width the card gives the chart, so bars fill it and text keeps its size.
    var W = Math.max(200, Math.floor(chart.getBoundingClientRect().width) || 900), H = 180, top = 18, bottom = 22, left = 4;
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var n = t.buckets.length, slot = (W - left) / n, max = 0;
    t.buckets.forEach(function (b) { if (b.bytes > max) max = b.bytes; });
    var parts = [svg('line', { x1: left, y1: H - bottom + 0.5, x2: W, y2: H - bottom + 0.5, 'class': 'axis' })];
    t.buckets.forEach(function (b, i) {
      var h = max > 0 ? Math.max(b.bytes > 0 ? 2 : 0, Math.round((H - top - bottom) * b.bytes / max)) : 0;
      var x = left + i * slot + 4, w = slot - 8;
      var start = new Date(b.start), end = new Date(start.getTime() + t.bucketMs);
      var rect = svg('rect', { x: x, y: H - bottom - Math.max(h, 1), width: w, height: Math.max(h, 1), 'class': h > 0 ? 'bar' : 'bar empty' });
      rect.appendChild(svg('title', {}, clock(start) + '-' + clock(end) + ': ' + b.images + ' image(s), ' + bytes(b.bytes) + ', ' + b.jobs + ' job(s)'));
      parts.push(rect);
      if (b.bytes > 0 && slot >= 48) parts.push(svg('text', { x: x + w / 2, y: H - bottom - h - 4, 'text-anchor': 'middle', 'class': 'value' }, bytes(b.bytes)));
      // The last label ends at the chart's edge rather than being cut by it.
      if (i === n - 1) parts.push(svg('text', { x: x + w, y: H - 6, 'text-anchor': 'end' }, clock(start)));
      else if (i % 3 === 0) parts.push(svg('text', { x: x + w / 2, y: H - 6, 'text-anchor': 'middle' }, clock(start)));
    });
    chart.replaceChildren.apply(chart, parts);
  }

  function cell(label, className, text) {
    var td = el('td', className, text);
    td.dataset.label = label;
    return td;
  }

  // A long error folds to its start; the whole text is one click away, and stays open across refreshes.
  var PREVIEW = 120;
  var openErrors = {};
  function errorCell(job) {
    var td = cell('Error', 'error');
    var error = job.error || '';
    if (error.length <= PREVIEW) {
      if (error) td.appendChild(el('div', 'error-full', error));
      return td;
    }
    var details = el('details');
    var summary = el('summary');
    summary.appendChild(el('span', 'preview', error.slice(0, PREVIEW) + '\u2026'));
    summary.appendChild(el('span', 'collapse', 'hide the full error'));
    details.appendChild(summary);
    details.appendChild(el('div', 'error-full', error));
    details.open = openErrors[job.id] === true;
    details.addEventListener('toggle', function () { openErrors[job.id] = details.open; });
    td.appendChild(details);
    return td;
  }

  function progressCell(job) {
    var td = cell('Progress', 'num');
    var p = job.progress || { imagesDone: 0, imagesTotal: 0, bytesUploaded: 0 };
    if (job.state === 'running' && p.imagesTotal > 0) {
      var bar = el('progress');
      bar.max = p.imagesTotal;
      bar.value = p.imagesDone;
      td.appendChild(bar);
      td.appendChild(document.createTextNode(' '));
    }
    td.appendChild(el('span', null, p.imagesDone + '/' + p.imagesTotal + ' images, ' + bytes(p.bytesUploaded)));
    var i = job.images || {};
    var detail = [];
    if (i.copied) detail.push(i.copied + ' copied');
    if (i.deleted) detail.push(i.deleted + ' deleted');
    if (i.skipped) detail.push(i.skipped + ' skipped');
    if (i.failed) detail.push(i.failed + ' failed');
    if (detail.length) td.appendChild(el('div', 'small', detail.join(', ')));
    return td;
  }

  function row(job) {
    var tr = el('tr');
    tr.dataset.jobId = job.id;
    tr.dataset.state = job.state;
    var created = cell('Created', 'mono', when(job.createdAt));
    created.title = job.createdAt + (job.finishedAt ? ', finished ' + job.finishedAt : '');
    tr.appendChild(created);
    var id = cell('Job', 'mono', String(job.id).slice(0, 8));
    id.title = job.id;
    tr.appendChild(id);
    tr.appendChild(cell('Kind', null, job.kind));
    tr.appendChild(cell('Source', 'source', source(job)));
    tr.appendChild(cell('Destination', 'source', destination(job)));
    var stateCell = cell('State');
    stateCell.appendChild(el('span', 'state ' + stateOf(job.state), job.state));
    if (job.state === 'queued' && job.error) stateCell.appendChild(el('div', 'small', 'retry at ' + when(job.notBefore)));
    tr.appendChild(stateCell);
    tr.appendChild(progressCell(job));
    tr.appendChild(cell('Attempts', 'num', job.attempts));
    tr.appendChild(errorCell(job));
    return tr;
  }

  var lastThroughput = null;
  function render(data) {
    renderCounts(data);
    lastThroughput = data.throughput;
    renderThroughput(data.throughput);
    var body = document.getElementById('jobs');
    body.replaceChildren.apply(body, data.jobs.map(row));
    document.getElementById('empty').hidden = data.jobs.length > 0;
    document.getElementById('updated').textContent = 'updated ' + clock(new Date(data.generatedAt), true) + ', ' + data.running + ' running now';
  }

  function problem(text) {
    var box = document.getElementById('problem');
    box.textContent = text || '';
    box.className = text ? 'shown' : '';
  }

  function poll() {
    fetch('api/v1/status', { cache: 'no-store', credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) throw new Error('the service refused the ApiToken: reload the page to sign in again');
        if (!res.ok) return res.json().then(function (b) { throw new Error(res.status + ' ' + ((b && b.error && b.error.message) || res.statusText)); }, function () { throw new Error(res.status + ' ' + res.statusText); });
        return res.json();
      })
      .then(function (data) { render(data); problem(''); })
      .catch(function (err) { problem('Could not refresh: ' + (err && err.message ? err.message : String(err)) + '. Showing the last data; trying again.'); })
      .then(function () {
        polls++;
        document.body.dataset.polls = String(polls);
        setTimeout(poll, POLL_MS);
      });
  }
  window.addEventListener('resize', function () { if (lastThroughput) renderThroughput(lastThroughput); });
  poll();
})();`;
