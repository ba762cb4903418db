// Workers (heartbeats, tasks running), queues (depth, oldest message age) and a chart of tasks
// completed and failed per minute. Refreshed every few seconds while the page is open.
import {ago, api, count, formatDuration, h, parseTime, query, s, show, tableHead, timeCell} from './dom.js';

const REFRESH_MS = 5000;
const RANGES = [[60, 'last hour'], [360, 'last 6 hours'], [1440, 'last 24 hours']];

function workersTable(workers) {
  if (workers.length === 0) return h('p', {class: 'empty', testid: 'workers-table'}, 'No workers have registered.');
  const sorted = [...workers].sort((a, b) => Number(b.alive) - Number(a.alive) || parseTime(b.last_heartbeat_at) - parseTime(a.last_heartbeat_at));
  return h('div', {class: 'table-scroll'}, h('table', {class: 'table', testid: 'workers-table'},
    tableHead(['worker', 'queue', 'function', 'state', 'last heartbeat', 'started', 'tasks running'], ['tasks running']),
    h('tbody', null, sorted.map((w) => h('tr', {testid: 'worker-row', 'data-alive': String(Boolean(w.alive))},
      h('td', null, h('span', {class: 'mono', title: w.worker_id}, w.worker_id)),
      h('td', null, w.queue_name),
      h('td', null, w.function_name || h('span', {class: 'muted'}, '—')),
      h('td', null, h('span', {class: ['badge', w.alive ? 'status-completed' : w.stopped_at ? 'status-created' : 'status-failed']},
        w.alive ? 'alive' : w.stopped_at ? 'stopped' : 'silent')),
      h('td', {title: w.last_heartbeat_at || ''}, w.last_heartbeat_at ? ago(w.last_heartbeat_at) : '—'),
      h('td', null, timeCell(w.started_at)),
      h('td', {class: 'num'}, count(w.tasks_running)))))));
}

function queuesTable(queues) {
  if (queues.length === 0) return h('p', {class: 'empty', testid: 'queues-table'}, 'No queues.');
  return h('div', {class: 'table-scroll'}, h('table', {class: 'table', testid: 'queues-table'},
    tableHead(['queue', 'messages waiting', 'oldest message'], ['messages waiting', 'oldest message']),
    h('tbody', null, queues.map((q) => h('tr', {testid: 'queue-row'},
      h('td', null, q.queue_name),
      h('td', {class: 'num'}, count(q.depth)),
      h('td', {class: 'num'}, q.oldest_message_age_seconds == null ? '—' : formatDuration(q.oldest_message_age_seconds * 1000)))))));
}

/** The chart's top: four gridlines at a round step (1, 2 or 5 times a power of ten). */
function niceMax(n) {
  const rough = Math.max(1, n) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= rough);
  return Math.max(4, step * 4);
}

function clock(text) {
  const d = new Date(parseTime(text));
  return Number.isNaN(d.getTime()) ? '' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Stacked bars: completed (bottom) and failed (top) tasks per minute. */
export function throughputChart(minutes) {
  const W = 900;
  const H = 220;
  const left = 44;
  const bottom = 26;
  const top = 10;
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...minutes.map((m) => (m.completed || 0) + (m.failed || 0))));
  const total = minutes.reduce((sum, m) => sum + (m.completed || 0), 0);
  const failed = minutes.reduce((sum, m) => sum + (m.failed || 0), 0);
  const svg = s('svg', {class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', testid: 'throughput-chart',
    'aria-label': `Tasks per minute: ${total} completed and ${failed} failed in ${minutes.length} minutes`});
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    svg.appendChild(s('line', {class: 'grid', x1: left, x2: W - 10, y1: y, y2: y}));
    svg.appendChild(s('text', {class: 'axis', x: left - 6, y: y + 4, 'text-anchor': 'end'}, String((max * i) / 4)));
  }
  const slot = plotW / Math.max(1, minutes.length);
  const barW = Math.max(1, slot * 0.8);
  const labelEvery = Math.max(1, Math.ceil(minutes.length / 8));
  minutes.forEach((m, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const hc = (plotH * (m.completed || 0)) / max;
    const hf = (plotH * (m.failed || 0)) / max;
    const tip = s('title', null, `${clock(m.minute)}: ${m.completed || 0} completed, ${m.failed || 0} failed`);
    const g = s('g', {class: 'bar'}, tip);
    g.appendChild(s('rect', {class: 'bar-hit', x: left + i * slot, y: top, width: slot, height: plotH}));
    if (hc > 0) g.appendChild(s('rect', {class: 'bar-completed', x, y: top + plotH - hc, width: barW, height: hc}));
    if (hf > 0) g.appendChild(s('rect', {class: 'bar-failed', x, y: top + plotH - hc - hf, width: barW, height: hf}));
    svg.appendChild(g);
    if (i % labelEvery === 0) svg.appendChild(s('text', {class: 'axis', x: left + i * slot + slot / 2, y: H - 8, 'text-anchor': 'middle'}, clock(m.minute)));
  });
  return h('figure', {class: 'chart-figure'}, svg,
    h('figcaption', {class: 'legend'},
      h('span', {class: 'legend-item'}, h('span', {class: 'legend-swatch bar-completed'}), `completed (${count(total)})`),
      h('span', {class: 'legend-item'}, h('span', {class: 'legend-swatch bar-failed'}), `failed (${count(failed)})`)));
}

export async function workersPage(ctx) {
  const minutes = Number(ctx.params.get('minutes')) || 60;
  const range = h('select', {id: 'throughput-range', testid: 'throughput-range'},
    RANGES.map(([value, label]) => h('option', {value, selected: value === minutes}, label)));
  range.addEventListener('change', () => {
    location.hash = `#/workers${query({minutes: range.value})}`;
  });
  const chartSlot = h('div', {class: 'chart-slot'});
  const workersSlot = h('div');
  const queuesSlot = h('div');
  const load = async () => {
    const [workers, queues, throughput] = await Promise.all([
      api('/api/workers'), api('/api/queues'), api(`/api/throughput${query({minutes})}`)]);
    if (!ctx.alive()) return;
    workersSlot.replaceChildren(workersTable(workers.workers));
    queuesSlot.replaceChildren(queuesTable(queues.queues));
    chartSlot.replaceChildren(throughputChart(throughput.minutes));
  };
  await load();
  show(ctx,
    h('h1', null, 'Workers and queues'),
    h('section', {class: 'card', 'aria-labelledby': 'throughput-title'},
      h('header', {class: 'card-head'}, h('h2', {id: 'throughput-title'}, 'Throughput: tasks per minute'),
        h('label', {for: 'throughput-range', class: 'inline'}, 'Range ', range)),
      chartSlot),
    h('h2', {class: 'section-title'}, 'Workers'), workersSlot,
    h('h2', {class: 'section-title'}, 'Queues'), queuesSlot,
    h('p', {class: 'muted small'}, `Refreshed every ${REFRESH_MS / 1000} s.`));
  const interval = setInterval(() => load().catch(() => {}), REFRESH_MS);
  ctx.onCleanup(() => clearInterval(interval));
}
