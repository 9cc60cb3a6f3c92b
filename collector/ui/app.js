// edge-collector UI: trace list, trace waterfall, search, errors. No framework, no build step.
// Every piece of data is rendered with textContent / attributes, never as HTML.
'use strict';

(function () {
  const view = document.getElementById('view');
  const searchInput = document.getElementById('search');
  const REFRESH_MS = 5000;
  let renderSeq = 0; // a newer render makes older async renders give up
  let refreshTimer = null;

  // ---------------------------------------------------------------- helpers

  /** h('div#id.a.b', { attrs, on… handlers }, children…): builds an element; strings become text nodes. */
  function h(sel, attrs, ...children) {
    const [tagId, ...classes] = sel.split('.');
    const [tag, id] = tagId.split('#');
    const el = document.createElement(tag || 'div');
    if (id) el.id = id;
    if (classes.length) el.className = classes.join(' ');
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'style') for (const [p, x] of Object.entries(v)) el.style.setProperty(p.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase()), x);
      else if (k === 'class') el.className += ' ' + v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, children);
    return el;
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  async function api(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    // A locked collector whose login session ended: log in again.
    if (res.status === 401) location.assign('/login');
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) throw new Error((body && (body.error || body.message)) || `${res.status} ${res.statusText}`);
    return body;
  }

  function fmtDuration(ms) {
    if (ms == null || !isFinite(ms)) return '–';
    if (ms < 0) return '-' + fmtDuration(-ms);
    if (ms === 0) return '0 ms';
    if (ms < 1) return `${Math.round(ms * 1000)} µs`;
    if (ms < 10) return `${ms.toFixed(2)} ms`;
    if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
    return `${Math.floor(ms / 60000)} m ${Math.round((ms % 60000) / 1000)} s`;
  }
  function relTime(ts) {
    const s = (Date.now() - ts) / 1000;
    if (s < 0) return 'in the future';
    if (s < 5) return 'just now';
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }
  /** A <time> with a relative text (kept current) and the absolute time as tooltip. */
  function timeEl(ts) {
    if (ts == null) return h('span.muted', null, '–');
    const d = new Date(ts);
    return h('time.rel', { datetime: d.toISOString(), title: d.toLocaleString(), 'data-ts': ts }, relTime(ts));
  }
  function updateRelTimes() {
    for (const t of document.querySelectorAll('time.rel[data-ts]')) t.textContent = relTime(Number(t.dataset.ts));
  }
  /** `Class: message`, or whichever of the two there is (message items have no class). */
  const errText = (e) => (e.class && e.message ? `${e.class}: ${e.message}` : e.class || e.message || '(no message)');
  const shortId = (id) => (id ? String(id).slice(0, 8) : '');
  const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

  // Service colours: a hash of the name picks a palette slot (red stays for errors); services
  // shown together get distinct slots (probing on collisions, in name order, so stable).
  const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#db2777', '#8b5cf6', '#06b6d4', '#84cc16', '#a16207'];
  function slotOf(service) {
    let x = 7;
    for (const ch of String(service)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
    return x % PALETTE.length;
  }
  function colorMap(services) {
    const map = new Map();
    const used = new Set();
    for (const s of [...new Set(services)].sort()) {
      let i = slotOf(s);
      for (let n = 0; used.has(i) && n < PALETTE.length; n++) i = (i + 1) % PALETTE.length;
      used.add(i);
      map.set(s, PALETTE[i]);
    }
    return map;
  }
  function serviceChip(service, kind, color) {
    return h('span.chip', { title: kind ? `${service} (${kind})` : service, style: { '--c': color || PALETTE[slotOf(service)] } },
      h('span.swatch'), service, kind ? h('span.tag', null, kind) : null);
  }
  const isBrowser = (span) => span.resource && span.resource['telemetry.sdk.language'] === 'webjs';

  function levelBadge(level) {
    const l = String(level || 'error').toLowerCase();
    return h('span.level', { class: `level-${l}` }, l);
  }
  function kvTable(obj, empty) {
    const keys = Object.keys(obj || {}).sort();
    if (!keys.length) return h('p.muted', null, empty);
    return h('table.kv', null, h('tbody', null, keys.map((k) =>
      h('tr', null, h('th', { scope: 'row' }, k), h('td', null, valueText(obj[k]))))));
  }
  /** `text` with the case-insensitive occurrences of `q` wrapped in <mark>. */
  function highlight(text, q) {
    const out = [];
    const s = String(text || '');
    const lower = s.toLowerCase();
    const needle = String(q || '').toLowerCase().trim();
    let i = 0;
    if (needle) {
      for (let j = lower.indexOf(needle); j >= 0; j = lower.indexOf(needle, i)) {
        out.push(s.slice(i, j), h('mark', null, s.slice(j, j + needle.length)));
        i = j + needle.length;
      }
    }
    out.push(s.slice(i));
    return out;
  }
  function message(cls, text) {
    return h('p', { class: cls }, text);
  }
  function setView(...children) {
    // replaceChildren would show a null (a section with nothing to show) as "null".
    view.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
  }

  // ---------------------------------------------------------------- routing

  function parseRoute() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const qi = raw.indexOf('?');
    const path = qi >= 0 ? raw.slice(0, qi) : raw;
    const params = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
    const parts = path.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    if (parts[0] === 'trace' && parts[1]) return { name: 'trace', id: parts[1], span: params.get('span') };
    if (parts[0] === 'errors' && parts[1]) return { name: 'error', id: parts[1] };
    if (parts[0] === 'errors') return { name: 'errors' };
    if (parts[0] === 'search') return { name: 'search', q: params.get('q') || '' };
    return { name: 'traces', service: params.get('service') || '', group: params.get('group') || '' };
  }

  function render() {
    const route = parseRoute();
    const seq = ++renderSeq;
    clearInterval(refreshTimer);
    refreshTimer = null;
    const nav = { traces: 'traces', trace: 'traces', errors: 'errors', error: 'errors' }[route.name];
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
    document.title = 'edge-collector';
    if (route.name !== 'search') searchInput.value = '';
    const views = { traces: traceListView, trace: traceView, errors: errorListView, error: errorView, search: searchView };
    views[route.name](route, seq).catch((e) => {
      if (seq === renderSeq) setView(message('error-message', `Could not load: ${e.message}`), h('p', null, h('a', { href: '#/' }, '← Traces'), ' · ', h('a', { href: '#/errors' }, 'Errors')));
    });
  }
  const stale = (seq) => seq !== renderSeq;

  async function refreshStatus() {
    try {
      const s = await api('api/status');
      const n = (k, word) => `${k} ${word}${k === 1 ? '' : 's'}`;
      const parts = [n(s.traces, 'trace'), n(s.spans, 'span'), n(s.errors, 'error'), n(s.logs || 0, 'log')];
      if (s.relay && (s.relay.honeycomb || s.relay.rollbar)) {
        const to = [s.relay.honeycomb && 'Honeycomb', s.relay.rollbar && 'Rollbar'].filter(Boolean).join(' + ');
        parts.push(`relay → ${to} (${s.relay.forwarded} sent, ${s.relay.dropped} dropped)`);
      }
      document.getElementById('status').textContent = parts.join(' · ');
    } catch { /* the status line is optional */ }
  }

  // ---------------------------------------------------------------- trace list

  async function traceListView(route, seq) {
    const params = new URLSearchParams({ limit: '100' });
    if (route.service) params.set('service', route.service);
    const tbody = h('tbody');
    const filter = h('select#service-filter', { 'aria-label': 'Service', onchange: (e) => {
      location.hash = e.target.value ? `#/?service=${encodeURIComponent(e.target.value)}` : '#/';
    } }, h('option', { value: '' }, 'All services'));
    const updated = h('span.muted');
    // Groups (--group): named X-Ray filter expressions; a group lists the traces it matches.
    const groupSelect = h('select#group-filter', { 'aria-label': 'Group', onchange: (e) => {
      location.hash = e.target.value ? `#/?group=${encodeURIComponent(e.target.value)}` : '#/';
    } }, h('option', { value: '' }, 'All traces'));
    const groupExpr = h('code#group-expression.muted');
    let knownServices = new Set();
    async function load() {
      const source = route.group ? `api/groups/${encodeURIComponent(route.group)}?limit=100` : `api/traces?${params}`;
      const [data, groups] = await Promise.all([api(source), api('api/groups').catch(() => ({ groups: [] })), refreshStatus()]);
      if (stale(seq)) return;
      groupSelect.replaceChildren(h('option', { value: '' }, 'All traces'),
        ...(groups.groups || []).map((g) => h('option', { value: g.name, selected: g.name === route.group, title: g.filterExpression }, `group: ${g.name}`)));
      groupSelect.hidden = !(groups.groups || []).length;
      groupExpr.textContent = route.group ? (data.filterExpression || '') : '';
      const traces = data.traces || [];
      for (const t of traces) for (const s of t.services || []) knownServices.add(s);
      knownServices.add(route.service);
      const sel = filter.value || route.service;
      filter.replaceChildren(h('option', { value: '' }, 'All services'),
        ...[...knownServices].filter(Boolean).sort().map((s) => h('option', { value: s, selected: s === sel }, s)));
      tbody.replaceChildren(...traces.map(traceRow));
      if (!traces.length) {
        const empty = route.group ? 'No trace (of the newest 1,000) matches this group.' : 'No traces yet. Point an SDK at this collector (endpoint: ' + location.origin + ').';
        tbody.append(h('tr', null, h('td.empty', { colspan: 6 }, empty)));
      }
      updated.textContent = `updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
    }
    await load();
    if (stale(seq)) return;
    setView(
      h('div.toolbar', null, h('h1', null, 'Traces'), groupSelect, groupExpr, filter,
        h('button#refresh', { type: 'button', onclick: () => load().catch(() => {}) }, 'Refresh'), updated),
      h('table.list.traces', null,
        h('thead', null, h('tr', null, ['Root span', 'Services', 'Started', 'Duration', 'Spans', 'Errors'].map((c) => h('th', null, c)))),
        tbody));
    refreshTimer = setInterval(() => { if (!document.hidden) load().catch(() => {}); }, REFRESH_MS);
  }

  function traceRow(t) {
    const href = `#/trace/${encodeURIComponent(t.traceId)}`;
    return h('tr.trace-row', { 'data-trace-id': t.traceId, class: t.error ? 'has-error' : null, onclick: (e) => {
      if (!e.target.closest('a')) location.hash = href;
    } },
      h('td', null, h('a.trace-name', { href }, t.rootName || '(unnamed)'), ' ', h('code.muted', { title: t.traceId }, shortId(t.traceId))),
      h('td', null, (t.services || []).map((s, _, all) => serviceChip(s, null, colorMap(all).get(s)))),
      h('td', null, timeEl(t.start)),
      h('td.num', null, fmtDuration(t.durationMs)),
      h('td.num', null, String(t.spanCount)),
      h('td', null, t.error ? h('span.err-flag', { title: `${t.errorCount || 0} error(s)` }, `⚠ ${t.errorCount || 'error'}`) : h('span.muted', null, '–')));
  }

  // ---------------------------------------------------------------- trace page (waterfall)

  async function traceView(route, seq) {
    const data = await api(`api/traces/${encodeURIComponent(route.id)}`);
    if (stale(seq)) return;
    const spans = data.spans || [];
    const errors = data.errors || [];
    const logs = data.logs || [];
    document.title = `trace ${shortId(data.traceId)} · edge-collector`;
    if (!spans.length) return setView(h('h1', null, 'Trace ', h('code', null, data.traceId)), message('muted', 'No spans (yet).'), errorsOfTrace(errors, new Map()), logsOfTrace(logs, new Map(), null, logs.length ? logs[0].time : 0));

    // Tree: children by parent id, sorted by start; spans whose parent is not here are roots.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const children = new Map();
    const roots = [];
    for (const s of spans) {
      if (s.parentSpanId && s.parentSpanId !== s.spanId && byId.has(s.parentSpanId)) {
        if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
        children.get(s.parentSpanId).push(s);
      } else roots.push(s);
    }
    const byStart = (a, b) => a.start - b.start;
    roots.sort(byStart);
    for (const list of children.values()) list.sort(byStart);
    const ordered = []; // [span, depth] in display order
    const seen = new Set();
    const walk = (s, depth) => {
      if (seen.has(s.spanId)) return;
      seen.add(s.spanId);
      ordered.push([s, depth]);
      for (const c of children.get(s.spanId) || []) walk(c, depth + 1);
    };
    roots.forEach((r) => walk(r, 0));
    spans.filter((s) => !seen.has(s.spanId)).forEach((s) => walk(s, 0)); // parent cycles

    const t0 = Math.min(...spans.map((s) => s.start));
    const t1 = Math.max(...spans.map((s) => Math.max(s.end ?? s.start, s.start)));
    const total = Math.max(t1 - t0, 0.001);
    const pct = (t) => Math.min(100, Math.max(0, ((t - t0) / total) * 100));
    const errorsBySpan = new Map();
    for (const e of errors) if (e.spanId) errorsBySpan.set(e.spanId, [...(errorsBySpan.get(e.spanId) || []), e]);
    const isError = (s) => (s.status && s.status.code === 'error') || errorsBySpan.has(s.spanId);

    const colors = colorMap(spans.map((s) => s.service));
    const collapsed = new Set();
    const rows = new Map();
    const details = h('aside#span-details', { 'aria-label': 'Span details' }, message('muted', 'Click a span to see its attributes and events.'));

    const descCount = new Map();
    for (let i = ordered.length - 1; i >= 0; i--) {
      const id = ordered[i][0].spanId;
      descCount.set(id, (children.get(id) || []).reduce((n, c) => n + 1 + (descCount.get(c.spanId) || 0), 0));
    }
    const descendants = (id) => descCount.get(id) || 0;
    const treeParent = new Map();
    for (const [id, list] of children) for (const c of list) treeParent.set(c.spanId, id);
    function applyCollapse() {
      const hiddenUnder = new Set();
      for (const [s] of ordered) {
        const row = rows.get(s.spanId);
        const p = treeParent.get(s.spanId);
        const hide = p !== undefined && (hiddenUnder.has(p) || collapsed.has(p));
        row.hidden = Boolean(hide);
        if (hide) hiddenUnder.add(s.spanId);
        const btn = row.querySelector('button.toggle');
        if (btn) {
          const open = !collapsed.has(s.spanId);
          btn.setAttribute('aria-expanded', String(open));
          btn.textContent = open ? '▾' : '▸';
          btn.title = open ? 'Collapse' : `Expand (${descendants(s.spanId)} hidden)`;
          row.querySelector('.hidden-count').textContent = open ? '' : `+${descendants(s.spanId)}`;
        }
      }
    }
    function select(id, scroll) {
      const s = byId.get(id);
      if (!s) return;
      for (const r of rows.values()) r.classList.toggle('selected', r.dataset.spanId === id);
      // Make sure it is visible: expand collapsed ancestors.
      for (let p = treeParent.get(id), n = 0; p !== undefined && n < ordered.length; p = treeParent.get(p), n++) collapsed.delete(p);
      applyCollapse();
      details.replaceChildren(...spanDetails(s, t0, errorsBySpan.get(s.spanId) || [], colors.get(s.service), logs.filter((l) => l.spanId === s.spanId)));
      if (scroll) rows.get(id).scrollIntoView({ block: 'center' });
      history.replaceState(null, '', `#/trace/${encodeURIComponent(data.traceId)}?span=${encodeURIComponent(id)}`);
    }

    // Keyboard: Enter selects, ←/→ collapse/expand, ↑/↓ move between visible rows.
    function onRowKey(e, id) {
      const row = rows.get(id);
      if (e.key === 'Enter' || e.key === ' ') select(id);
      else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && children.has(id)) {
        if (e.key === 'ArrowLeft') collapsed.add(id); else collapsed.delete(id);
        applyCollapse();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        let r = row;
        do r = e.key === 'ArrowDown' ? r.nextElementSibling : r.previousElementSibling; while (r && r.hidden);
        if (r && r.classList.contains('span-row')) r.focus();
      } else return;
      e.preventDefault();
    }

    for (const [s, depth] of ordered) {
      const kids = children.get(s.spanId) || [];
      const left = pct(s.start);
      const width = Math.max(pct(s.end ?? s.start) - left, 0);
      const browser = isBrowser(s);
      // The duration goes after the bar, else before it, else inside it.
      const labelAt = left + width <= 80 ? { left: `${left + width}%` } : left >= 15 ? { right: `${100 - left}%` } : { right: `${100 - left - width}%` };
      const labelClass = left + width <= 80 ? 'after' : left >= 15 ? 'before' : 'inside';
      const row = h('div.span-row', {
        'data-span-id': s.spanId, 'data-parent-span-id': s.parentSpanId || '', 'data-depth': depth,
        'data-service': s.service, 'data-side': browser ? 'browser' : 'backend', class: isError(s) ? 'error' : null,
        tabindex: 0, role: 'row', style: { '--c': colors.get(s.service), '--depth': depth },
        onclick: (e) => { if (!e.target.closest('button.toggle')) select(s.spanId); },
        onkeydown: (e) => onRowKey(e, s.spanId),
      },
      h('div.span-label', null,
        kids.length
          ? h('button.toggle', { type: 'button', 'aria-expanded': 'true', 'aria-label': `Collapse or expand ${s.name}`, onclick: () => {
            if (collapsed.has(s.spanId)) collapsed.delete(s.spanId); else collapsed.add(s.spanId);
            applyCollapse();
          } }, '▾')
          : h('span.toggle-space'),
        h('span.swatch', { title: `${s.service} (${browser ? 'browser' : 'backend'})` }),
        h('span.span-name', { title: s.name }, s.name),
        isError(s) ? h('span.err-mark', { title: 'error' }, '⚠') : null,
        h('span.span-service', null, s.service),
        s.kind && s.kind !== 'internal' ? h('span.tag', null, s.kind) : null,
        h('span.hidden-count')),
      h('div.span-timeline', null,
        h('div.span-bar', { style: { left: `${left}%`, width: `${width}%` }, title: `${s.name}: ${fmtDuration(s.durationMs)}` },
          (s.events || []).map((ev) => h('span.event-tick', {
            class: ev.name === 'exception' ? 'exception' : null, title: `${ev.name} at +${fmtDuration(ev.time - s.start)}`,
            style: { left: `${s.durationMs > 0 ? Math.min(100, Math.max(0, ((ev.time - s.start) / s.durationMs) * 100)) : 0}%` },
          }))),
        h('span.span-duration', { class: labelClass, style: labelAt }, fmtDuration(s.durationMs))));
      rows.set(s.spanId, row);
    }

    const services = new Map();
    for (const s of spans) {
      const e = services.get(s.service) || { count: 0, browser: isBrowser(s) };
      e.count++;
      services.set(s.service, e);
    }
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h('span.tick', { style: { left: `${f * 100}%` } }, fmtDuration(f * total)));
    const root = ordered[0][0];
    setView(
      h('div.trace-header', null,
        h('h1', null, root.name, ' ', h('code.muted', { title: 'trace id' }, data.traceId)),
        h('p.meta', null, timeEl(t0), ` · ${fmtDuration(total)} · ${spans.length} span${spans.length === 1 ? '' : 's'} · `,
          errors.length ? h('span.err-flag', null, `${errors.length} error${errors.length === 1 ? '' : 's'}`) : 'no errors'),
        h('div.legend', { 'aria-label': 'Services' }, [...services].map(([name, e]) =>
          h('span.legend-item', null, serviceChip(name, e.browser ? 'browser' : 'backend', colors.get(name)), h('span.muted', null, `${e.count} span${e.count === 1 ? '' : 's'}`))))),
      errorsOfTrace(errors, byId, (id) => select(id, true)),
      h('div.trace-body', null,
        h('div.waterfall', { role: 'table', 'aria-label': 'Waterfall' },
          h('div.waterfall-head', null,
            h('div.span-label', null,
              h('button', { type: 'button', onclick: () => { for (const [s] of ordered) if (children.has(s.spanId)) collapsed.add(s.spanId); applyCollapse(); } }, 'Collapse all'),
              h('button', { type: 'button', onclick: () => { collapsed.clear(); applyCollapse(); } }, 'Expand all')),
            h('div.span-timeline.axis', null, ticks)),
          [...rows.values()]),
        details),
      logsOfTrace(logs, byId, (id) => select(id, true), t0));
    if (route.span && byId.has(route.span)) select(route.span, true);
  }

  function errorsOfTrace(errors, byId, selectSpan) {
    if (!errors.length) return null;
    return h('section.trace-errors', null, h('h2', null, 'Errors in this trace'),
      h('ul', null, errors.map((e) => h('li.trace-error', null,
        levelBadge(e.level), ' ',
        h('a', { href: `#/errors/${encodeURIComponent(e.uuid)}` }, errText(e)), ' ',
        e.spanId && byId.has(e.spanId)
          ? h('button.linklike', { type: 'button', onclick: () => selectSpan(e.spanId) }, `in span ${byId.get(e.spanId).name}`)
          : null, ' ', timeEl(e.timestamp)))));
  }

  function severityBadge(l) {
    const n = l.severityNumber || 0;
    const level = n >= 17 ? 'error' : n >= 13 ? 'warning' : n >= 9 ? 'info' : 'debug';
    return h(`span.level.level-${level}`, null, (l.severity || '').toLowerCase() || 'log');
  }

  // The trace's log records in time order, beside its waterfall: offset, severity, service,
  // body, and the span each was written under.
  function logsOfTrace(logs, byId, selectSpan, t0) {
    if (!logs.length) return null;
    return h('section.trace-logs', null, h('h2', null, `Logs (${logs.length})`),
      h('ol.log-lines', null, logs.map((l) => h('li.log-line', { 'data-span-id': l.spanId || '' },
        h('span.muted.log-offset', null, `+${fmtDuration(l.time - t0)}`), ' ',
        severityBadge(l), ' ', serviceChip(l.service), ' ',
        h('span.log-body', null, l.body), ' ',
        l.spanId && byId.has(l.spanId) && selectSpan
          ? h('button.linklike', { type: 'button', onclick: () => selectSpan(l.spanId) }, `in span ${byId.get(l.spanId).name}`)
          : null,
        Object.keys(l.attributes || {}).length ? h('details', null, h('summary', null, 'Attributes'), kvTable(l.attributes, '')) : null))));
  }

  function spanDetails(s, t0, errs, color, logs) {
    const out = [
      h('h2', null, s.name),
      h('p', null, serviceChip(s.service, isBrowser(s) ? 'browser' : 'backend', color), ' ', h('span.tag', null, s.kind || 'internal')),
      h('dl.facts', null,
        h('dt', null, 'Duration'), h('dd', null, fmtDuration(s.durationMs)),
        h('dt', null, 'Starts at'), h('dd', null, `+${fmtDuration(s.start - t0)} · ${new Date(s.start).toLocaleString()}`),
        h('dt', null, 'Status'), h('dd', { class: s.status && s.status.code === 'error' ? 'err-text' : null },
          (s.status && s.status.code) || 'unset', s.status && s.status.message ? `: ${s.status.message}` : ''),
        h('dt', null, 'Span id'), h('dd', null, h('code', null, s.spanId)),
        h('dt', null, 'Parent'), h('dd', null, s.parentSpanId ? h('code', null, s.parentSpanId) : '(root)'),
        s.scope ? [h('dt', null, 'Scope'), h('dd', null, valueText(s.scope), s.scopeVersion ? ` ${s.scopeVersion}` : '')] : null),
    ];
    if (errs.length) {
      out.push(h('h3', null, 'Errors'), h('ul', null, errs.map((e) =>
        h('li', null, levelBadge(e.level), ' ', h('a', { href: `#/errors/${encodeURIComponent(e.uuid)}` }, errText(e))))));
    }
    if (logs.length) {
      out.push(h('h3', null, `Logs (${logs.length})`), h('ol.log-lines', null, logs.map((l) =>
        h('li', null, severityBadge(l), ' ', h('span.muted', null, `+${fmtDuration(l.time - s.start)}`), ' ', l.body))));
    }
    out.push(h('h3', null, 'Attributes'), kvTable(s.attributes, 'No attributes.'));
    out.push(h('h3', null, `Events (${(s.events || []).length})`));
    if ((s.events || []).length) {
      out.push(h('ol.events', null, s.events.map((ev) => h('li', { class: ev.name === 'exception' ? 'exception' : null },
        h('strong', null, ev.name), ' ', h('span.muted', null, `+${fmtDuration(ev.time - s.start)}`),
        Object.keys(ev.attributes || {}).length ? kvTable(ev.attributes, '') : null))));
    } else out.push(message('muted', 'No events.'));
    if ((s.links || []).length) {
      out.push(h('h3', null, 'Links'), h('ul', null, s.links.map((l) => h('li', null,
        h('a', { href: `#/trace/${encodeURIComponent(l.traceId)}?span=${encodeURIComponent(l.spanId)}` }, `${shortId(l.traceId)} / ${l.spanId}`)))));
    }
    out.push(h('details', null, h('summary', null, 'Resource'), kvTable(s.resource, 'No resource attributes.')));
    return out;
  }

  // ---------------------------------------------------------------- search

  async function searchView(route, seq) {
    if (document.activeElement !== searchInput) searchInput.value = route.q;
    if (!route.q.trim()) return setView(h('h1', null, 'Search'), message('muted', 'Type in the search box: span names, attribute keys and values, events, services, error messages, stack frames and log lines.'));
    setView(h('h1', null, 'Search'), message('muted', 'Searching…'));
    const data = await api(`api/search?${new URLSearchParams({ q: route.q, limit: '100' })}`);
    if (stale(seq)) return;
    const spans = data.spans || [];
    const errors = data.errors || [];
    const logs = data.logs || [];
    setView(
      h('h1', null, 'Search ', h('span.muted', null, `“${route.q}”`)),
      h('h2', null, `Spans (${spans.length})`),
      spans.length ? h('div.results', null, spans.map((s) => h('a.search-result', {
        href: `#/trace/${encodeURIComponent(s.traceId)}?span=${encodeURIComponent(s.spanId)}`,
        'data-trace-id': s.traceId, 'data-span-id': s.spanId,
      }, h('span.result-name', null, s.name), serviceChip(s.service), h('span.result-match', null, highlight(s.match, route.q)), timeEl(s.start))))
        : message('muted', 'No spans match.'),
      h('h2', null, `Errors (${errors.length})`),
      errors.length ? h('div.results', null, errors.map((e) => h('a.search-result.error-result', {
        href: `#/errors/${encodeURIComponent(e.uuid)}`, 'data-trace-id': e.traceId || '', 'data-error-uuid': e.uuid,
      }, levelBadge(e.level), h('span.result-name', null, highlight(errText(e), route.q)),
      h('span.result-match', null, e.match ? highlight(e.match, route.q) : null), timeEl(e.timestamp))))
        : message('muted', 'No errors match.'),
      h('h2', null, `Logs (${logs.length})`),
      logs.length ? h('div.results', null, logs.map((l) => h(l.traceId ? 'a.search-result.log-result' : 'div.search-result.log-result', {
        href: l.traceId ? `#/trace/${encodeURIComponent(l.traceId)}${l.spanId ? `?span=${encodeURIComponent(l.spanId)}` : ''}` : null,
        'data-trace-id': l.traceId || '',
      }, severityBadge(l), serviceChip(l.service), h('span.result-match', null, highlight(l.body, route.q)), timeEl(l.time))))
        : message('muted', 'No logs match.'));
  }

  let searchDebounce = null;
  function goSearch(replace) {
    const q = searchInput.value.trim();
    const target = `#/search?q=${encodeURIComponent(q)}`;
    if (replace && parseRoute().name === 'search') { history.replaceState(null, '', target); render(); } else location.hash = target;
  }
  document.getElementById('search-form').addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchDebounce); goSearch(false); });
  searchInput.addEventListener('input', () => {
    clearTimeout(searchDebounce);
    if (searchInput.value.trim().length >= 2) searchDebounce = setTimeout(() => goSearch(true), 350);
  });

  // ---------------------------------------------------------------- errors

  async function errorListView(route, seq) {
    document.title = 'errors · edge-collector';
    const data = await api('api/errors');
    if (stale(seq)) return;
    const groups = data.groups || [];
    setView(
      h('div.toolbar', null, h('h1', null, 'Errors'), h('button', { type: 'button', onclick: render }, 'Refresh')),
      h('table.list.errors', null,
        h('thead', null, h('tr', null, ['Level', 'Error', 'Count', 'Last seen', 'First seen', 'Environment', 'Trace'].map((c) => h('th', null, c)))),
        h('tbody', null, groups.length ? groups.map((g) => {
          const href = `#/errors/${encodeURIComponent(g.lastUuid)}`;
          return h('tr.error-group', { 'data-fingerprint': g.fingerprint, onclick: (e) => { if (!e.target.closest('a')) location.hash = href; } },
            h('td', null, levelBadge(g.level)),
            h('td', null, h('a.error-title', { href }, g.class ? h('strong', null, g.class) : null, g.class && g.message ? ': ' : '', g.message || (g.class ? '' : '(no message)'))),
            h('td.num.count', null, String(g.count)),
            h('td', null, timeEl(g.lastSeen)),
            h('td', null, timeEl(g.firstSeen)),
            h('td', null, g.environment || '–'),
            h('td', null, g.traceId ? h('a.group-trace-link', { href: `#/trace/${encodeURIComponent(g.traceId)}` }, shortId(g.traceId)) : h('span.muted', null, '–')));
        }) : h('tr', null, h('td.empty', { colspan: 7 }, 'No errors yet.')))));
  }

  function framesList(frames) {
    if (!frames || !frames.length) return message('muted', 'No stack frames.');
    // Rollbar lists frames oldest first; show the most recent call first, like a browser console.
    return h('ol.frames', null, [...frames].reverse().map((f) => h('li.frame', null,
      h('span.method', null, f.method || '(anonymous)'), ' ',
      h('span.location', null, `${f.filename || '?'}${f.lineno != null ? `:${f.lineno}` : ''}${f.colno != null ? `:${f.colno}` : ''}`))));
  }

  async function errorView(route, seq) {
    const [e, groups] = await Promise.all([api(`api/errors/${encodeURIComponent(route.id)}`), api('api/errors').catch(() => ({ groups: [] }))]);
    if (stale(seq)) return;
    document.title = `${errText(e)} · edge-collector`;
    const group = (groups.groups || []).find((g) => g.lastUuid === e.uuid) ||
      (groups.groups || []).find((g) => g.class === e.class && g.message === e.message);
    const item = (e.item && e.item.data) || {};
    const js = (item.client && item.client.javascript) || {};
    const facts = [
      ['Level', levelBadge(e.level)],
      ['When', [timeEl(e.timestamp), ' ', h('span.muted', null, e.timestamp ? new Date(e.timestamp).toLocaleString() : '')]],
      group ? ['Occurrences', `${group.count} (first ${relTime(group.firstSeen)}, last ${relTime(group.lastSeen)})`] : null,
      ['Environment', e.environment || '–'],
      ['Trace', e.traceId ? h('a.trace-link', { href: `#/trace/${encodeURIComponent(e.traceId)}` }, `View trace ${shortId(e.traceId)}`) : h('span.muted', null, 'not linked to a trace')],
      e.spanId && e.traceId ? ['Span', h('a.span-link', { href: `#/trace/${encodeURIComponent(e.traceId)}?span=${encodeURIComponent(e.spanId)}` }, e.spanId)] : null,
      item.request && item.request.url ? ['Page', item.request.url] : null,
      js.browser ? ['Browser', js.browser] : null,
      js.code_version ? ['Code version', js.code_version] : null,
      item.framework ? ['Framework', item.framework] : null,
      ['UUID', h('code', null, e.uuid)],
    ].filter(Boolean);
    setView(h('section#error-detail', null,
      h('p', null, h('a', { href: '#/errors' }, '← All errors')),
      h('h1', null, e.class ? h('span.err-text', null, e.class) : null, e.class && e.message ? ': ' : '', e.message || (e.class ? '' : '(no message)')),
      h('dl.facts', null, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      h('h2', null, 'Stack trace ', h('span.muted', null, '(most recent call first)')),
      framesList(e.frames && e.frames.length ? e.frames : ((e.traceChain || [])[0] || {}).frames),
      (e.traceChain || []).slice(1).map((c) => [h('h3.cause', null, 'Caused by ', h('span.err-text', null, errText(c))), framesList(c.frames)]),
      h('details', null, h('summary', null, 'Raw item'), h('pre.raw', null, JSON.stringify(e.item, null, 2)))));
  }

  // ---------------------------------------------------------------- start

  window.addEventListener('hashchange', render);
  setInterval(updateRelTimes, 5000);
  refreshStatus();
  render();
})();
