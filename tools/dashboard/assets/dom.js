// Small helpers shared by the pages: building elements without HTML strings (every value from the
// API goes in as text, so nothing the database holds is ever parsed as markup), fetching the JSON
// API, and formatting times, durations and JSON values.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'testid') {
      el.setAttribute('data-testid', value);
    } else if (key === 'class' && Array.isArray(value)) {
      el.setAttribute('class', value.filter(Boolean).join(' '));
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** h('a', {href: '#/runs', testid: 'x'}, 'text', child…): an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

/** s('rect', {x: 1}): an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parseResponse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body.error === 'string' ? body.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

/** GET a JSON route; throws ApiError with the server's message on a 4xx/5xx. */
export async function api(path) {
  const response = await fetch(path, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
  return parseResponse(response);
}

/** POST an action route. */
export async function post(path) {
  const response = await fetch(path, {method: 'POST', headers: {Accept: 'application/json'}, credentials: 'same-origin'});
  return parseResponse(response);
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// PostgreSQL prints timestamptz as "2026-12-03 14:50:01.123456+00"; Date wants ISO 8601.
const PG_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Milliseconds since the epoch of a timestamp from the API, or NaN. */
export function parseTime(text) {
  if (!text) return NaN;
  const m = PG_TIME.exec(String(text).trim());
  if (!m) return Date.parse(text);
  const fraction = m[3] ? m[3].slice(0, 4).padEnd(4, '0') : '';
  let zone = m[4] || 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(`${m[1]}T${m[2]}${fraction}${zone}`);
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** "14:50:01" today, "Dec 3 14:50:01" another day, in the browser's time zone. */
export function formatTime(text) {
  const ms = parseTime(text);
  if (Number.isNaN(ms)) return text ? String(text) : '—';
  const d = new Date(ms);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return clock;
  const month = d.toLocaleString('en', {month: 'short'});
  const year = d.getFullYear() === today.getFullYear() ? '' : ` ${d.getFullYear()}`;
  return `${month} ${d.getDate()}${year} ${clock}`;
}

/** A <time> element: short text, the exact value as a tooltip. */
export function timeCell(text) {
  if (!text) return h('span', {class: 'muted'}, '—');
  return h('time', {datetime: String(text), title: String(text)}, formatTime(text));
}

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 2 : 1)} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min} min ${pad(Math.floor(sec % 60))} s`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h ${pad(min % 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Duration between two API timestamps; to now when the end is missing and `running`. */
export function between(start, end, running = false) {
  const a = parseTime(start);
  const b = end ? parseTime(end) : running ? Date.now() : NaN;
  return formatDuration(b - a);
}

/** "12 s ago" for a timestamp. */
export function ago(text) {
  const ms = parseTime(text);
  if (Number.isNaN(ms)) return '—';
  return `${formatDuration(Math.max(0, Date.now() - ms))} ago`;
}

export function isTruncated(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && value.$truncated === true;
}

function prettyJson(value) {
  return value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
}

// Values loaded in full (promises, by href): a live page redraws often, and a redrawn view must
// show a value loaded, or being loaded, for the view it replaced.
const fullValues = new Map();

function loadFull(href) {
  if (!fullValues.has(href)) {
    const loading = api(href);
    fullValues.set(href, loading);
    loading.catch(() => fullValues.delete(href));
  }
  return fullValues.get(href);
}

/**
 * A JSON value, collapsible: <details> with a one-line preview as summary. A value the server
 * truncated shows its size and a button that fetches the whole value from its href.
 */
export function jsonView(label, value, {open = false, testid} = {}) {
  const body = h('div', {class: 'json-body'});
  const fill = (v) => {
    body.replaceChildren(h('pre', {class: 'json'}, prettyJson(v)));
  };
  let preview;
  if (isTruncated(value)) {
    preview = `${formatBytes(value.bytes)} (truncated)`;
    const button = h('button', {type: 'button', class: 'link-button', testid: testid ? `${testid}-load` : null},
      `Load the full value (${formatBytes(value.bytes)})`);
    const load = async () => {
      button.disabled = true;
      button.textContent = 'Loading…';
      try {
        fill(await loadFull(value.href));
      } catch (error) {
        body.replaceChildren(h('p', {class: 'error-text'}, `Could not load the value: ${error.message}`));
      }
    };
    button.addEventListener('click', load);
    body.replaceChildren(button);
    if (fullValues.has(value.href)) load();
  } else {
    const text = JSON.stringify(value);
    preview = text === undefined ? '—' : text.length > 80 ? `${text.slice(0, 77)}…` : text;
    fill(value);
  }
  return h('details', {class: 'json-view', open, testid},
    h('summary', null, h('span', {class: 'json-label'}, label), ' ', h('code', {class: 'json-preview'}, preview)),
    body);
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '? bytes';
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A status pill; `status` also becomes a class for its colour. */
export function badge(status, testid) {
  const text = status || 'unknown';
  return h('span', {class: ['badge', `status-${text}`], testid, 'data-status': text}, text);
}

/** A number with thousands separators. */
export function count(n) {
  return Number.isFinite(n) ? n.toLocaleString('en') : '—';
}

export function errorBox(error) {
  return h('div', {class: 'error-box', role: 'alert', testid: 'error'}, h('strong', null, 'Error: '), error.message || String(error));
}

/** Replaces the page's content (when the page is still the current one) and sets the title. */
export function show(ctx, ...children) {
  if (!ctx.alive()) return;
  ctx.main.replaceChildren(...children);
  document.title = `${ctx.main.querySelector('h1')?.textContent || 'Dashboard'} · pgflow`;
}

/** A table's <thead>; the columns named in `numeric` are right-aligned like their cells. */
export function tableHead(names, numeric = []) {
  return h('thead', null, h('tr', null, names.map((name) => h('th', {scope: 'col', class: numeric.includes(name) ? 'num' : null}, name))));
}
