// The runs list: filters (flow, status, time) kept in the URL's hash, newest first, one page at a
// time through the server's keyset cursor (`next` -> `before`).
import {api, badge, between, h, parseTime, query, show, tableHead, timeCell} from './dom.js';

const STATUSES = ['started', 'completed', 'failed'];
const PAGE_SIZE = 50;

function localInputValue(iso) {
  const ms = parseTime(iso);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function isoFromInput(value) {
  if (!value) return '';
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}

function filterForm(filters, flowSlugs) {
  const flow = h('select', {name: 'flow', id: 'filter-flow', testid: 'filter-flow'},
    h('option', {value: ''}, 'all flows'),
    flowSlugs.map((slug) => h('option', {value: slug, selected: slug === filters.flow}, slug)));
  const status = h('select', {name: 'status', id: 'filter-status', testid: 'filter-status'},
    h('option', {value: ''}, 'any status'),
    STATUSES.map((st) => h('option', {value: st, selected: st === filters.status}, st)));
  const since = h('input', {type: 'datetime-local', id: 'filter-since', value: localInputValue(filters.since), testid: 'filter-since'});
  const until = h('input', {type: 'datetime-local', id: 'filter-until', value: localInputValue(filters.until), testid: 'filter-until'});
  const form = h('form', {class: 'filters', testid: 'runs-filters', role: 'search'},
    h('label', {for: 'filter-flow'}, 'Flow', flow),
    h('label', {for: 'filter-status'}, 'Status', status),
    h('label', {for: 'filter-since'}, 'Started after', since),
    h('label', {for: 'filter-until'}, 'Started before', until),
    h('button', {type: 'submit', class: 'button primary'}, 'Apply'),
    h('a', {class: 'button', href: '#/runs'}, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/runs${query({flow: flow.value, status: status.value, since: isoFromInput(since.value), until: isoFromInput(until.value)})}`;
  });
  return form;
}

function runRow(run) {
  const ended = run.completed_at || run.failed_at;
  return h('tr', {testid: 'run-row', 'data-run-id': run.run_id, 'data-status': run.status},
    h('td', null, h('a', {href: `#/runs/${encodeURIComponent(run.run_id)}`, class: 'mono', title: run.run_id}, run.run_id)),
    h('td', null, h('a', {href: `#/flows/${encodeURIComponent(run.flow_slug)}`}, run.flow_slug)),
    h('td', null, badge(run.status)),
    h('td', null, timeCell(run.started_at)),
    h('td', null, timeCell(ended)),
    h('td', {class: 'num'}, between(run.started_at, ended, run.status === 'started')),
    h('td', {class: 'num'}, run.remaining_steps ?? '—'));
}

export async function runsPage(ctx) {
  // limit: runs per page (the server allows 1..500); kept in the hash so that paging keeps it.
  const filters = Object.fromEntries(['flow', 'status', 'since', 'until', 'limit', 'before'].map((k) => [k, ctx.params.get(k) || '']));
  const [flows, page] = await Promise.all([
    api('/api/flows'),
    api(`/api/runs${query({...filters, limit: filters.limit || PAGE_SIZE})}`),
  ]);
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages'},
    filters.before ? h('a', {class: 'button', href: `#/runs${query({...filters, before: ''})}`, testid: 'runs-newest'}, '« Newest') : null,
    page.next ? h('a', {class: 'button', href: `#/runs${query({...filters, before: page.next})}`, testid: 'runs-older'}, 'Older runs »') : null);
  const table = page.runs.length
    ? h('div', {class: 'table-scroll'}, h('table', {class: 'table', testid: 'runs-table'},
      tableHead(['run', 'flow', 'status', 'started', 'ended', 'duration', 'steps left'], ['duration', 'steps left']),
      h('tbody', null, page.runs.map(runRow))))
    : h('p', {class: 'empty', testid: 'runs-table'}, 'No runs match these filters.');
  show(ctx,
    h('h1', null, 'Runs'),
    filterForm(filters, flows.flows.map((f) => f.flow_slug)),
    table,
    pager);
}
