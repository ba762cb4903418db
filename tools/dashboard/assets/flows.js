// The overview (totals and every flow with its graph) and one flow's page.
import {api, badge, count, h, show, tableHead} from './dom.js';
import {conditionText, dagSvg} from './dag.js';

const STATUSES = ['started', 'completed', 'failed'];

/** A run count; the server stops counting at `capped_at` (counts stay fast with millions of runs). */
function runCount(runs, status) {
  const n = runs?.[status] ?? 0;
  const cap = runs?.capped_at;
  return Number.isFinite(cap) && n >= cap ? `${count(cap)}+` : count(n);
}

function runCounts(runs, flowSlug) {
  return h('div', {class: 'counts'}, STATUSES.map((status) => {
    const href = `#/runs?${new URLSearchParams({...(flowSlug ? {flow: flowSlug} : {}), status})}`;
    return h('a', {class: ['count-link', `status-${status}`], href, testid: `count-${status}`},
      h('span', {class: 'count-number'}, runCount(runs, status)), ' ', status);
  }));
}

function seconds(value) {
  return value === null || value === undefined ? '—' : `${value} s`;
}

function optionsList(options) {
  const o = options || {};
  return h('dl', {class: 'options'},
    h('dt', null, 'max attempts'), h('dd', null, o.max_attempts ?? '—'),
    h('dt', null, 'base delay'), h('dd', null, seconds(o.base_delay)),
    h('dt', null, 'timeout'), h('dd', null, seconds(o.timeout)));
}

function summaryCard(label, value, href, testid) {
  const inner = [h('span', {class: 'card-value'}, value), h('span', {class: 'card-label'}, label)];
  return href ? h('a', {class: 'summary-card', href, testid}, inner) : h('div', {class: 'summary-card', testid}, inner);
}

function flowCard(flow) {
  const slug = flow.flow_slug;
  const maps = flow.steps.filter((st) => st.step_type === 'map').length;
  return h('section', {class: 'card flow-card', testid: `flow-card-${slug}`, 'aria-labelledby': `flow-${slug}`},
    h('header', {class: 'card-head'},
      h('h2', {id: `flow-${slug}`}, h('a', {href: `#/flows/${encodeURIComponent(slug)}`}, slug)),
      h('span', {class: 'muted'}, `${flow.steps.length} step${flow.steps.length === 1 ? '' : 's'}${maps ? `, ${maps} map` : ''}`),
      runCounts(flow.runs, slug)),
    h('div', {class: 'dag-scroll'}, flow.steps.length ? dagSvg(flow.steps, {label: `Graph of ${slug}`}) : h('p', {class: 'muted'}, 'No steps.')),
    optionsList(flow.options));
}

export async function flowsPage(ctx) {
  const [overview, flows] = await Promise.all([api('/api/overview'), api('/api/flows')]);
  const runs = overview.runs || {};
  show(ctx,
    h('h1', null, 'Overview'),
    h('div', {class: 'summary', testid: 'overview'},
      summaryCard('flows', count(overview.flows), null, 'overview-flows'),
      summaryCard('runs started', runCount(runs, 'started'), '#/runs?status=started', 'overview-started'),
      summaryCard('runs completed', runCount(runs, 'completed'), '#/runs?status=completed', 'overview-completed'),
      summaryCard('runs failed', runCount(runs, 'failed'), '#/runs?status=failed', 'overview-failed'),
      summaryCard('workers alive', count(overview.workers_alive), '#/workers', 'overview-workers')),
    h('h2', {class: 'section-title'}, 'Flows'),
    flows.flows.length
      ? h('div', {class: 'flow-list', testid: 'flow-list'}, flows.flows.map(flowCard))
      : h('p', {class: 'empty', testid: 'flow-list'}, 'No flows are registered yet.'));
}

function inherited() {
  return h('span', {class: 'muted', title: 'the flow\'s option applies'}, 'flow');
}

function conditionCell(condition) {
  if (!condition) return h('span', {class: 'muted'}, '—');
  return h('span', {class: 'condition'}, conditionText(condition));
}

function stepsTable(steps) {
  return h('table', {class: 'table', testid: 'flow-steps'},
    tableHead(['#', 'step', 'type', 'depends on', 'max attempts', 'base delay', 'timeout', 'start delay', 'condition'],
      ['#', 'max attempts', 'base delay', 'timeout', 'start delay']),
    h('tbody', null, steps.map((st) => {
      const o = st.options || {};
      return h('tr', {testid: `flow-step-${st.step_slug}`},
        h('td', {class: 'num'}, st.step_index),
        h('td', null, h('code', null, st.step_slug)),
        h('td', null, st.step_type === 'map' ? h('span', {class: 'tag tag-map'}, 'map') : 'single'),
        h('td', null, st.dependencies?.length ? st.dependencies.map((d, i) => [i ? ', ' : '', h('code', null, d)]) : h('span', {class: 'muted'}, 'root')),
        h('td', {class: 'num'}, o.max_attempts ?? inherited()),
        h('td', {class: 'num'}, o.base_delay == null ? inherited() : seconds(o.base_delay)),
        h('td', {class: 'num'}, o.timeout == null ? inherited() : seconds(o.timeout)),
        h('td', {class: 'num'}, seconds(o.start_delay)),
        h('td', null, conditionCell(st.condition)));
    })));
}

export async function flowPage(ctx) {
  const [slug] = ctx.args;
  const flow = await api(`/api/flows/${encodeURIComponent(slug)}`);
  show(ctx,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/flows'}, 'Flows'), ' / '),
    h('h1', {testid: 'flow-title'}, flow.flow_slug),
    h('div', {class: 'card'},
      h('header', {class: 'card-head'},
        runCounts(flow.runs, flow.flow_slug),
        h('a', {class: 'button', href: `#/runs?flow=${encodeURIComponent(flow.flow_slug)}`}, 'All runs of this flow')),
      h('div', {class: 'dag-scroll'}, dagSvg(flow.steps, {label: `Graph of ${flow.flow_slug}`})),
      legend(),
      optionsList(flow.options)),
    h('h2', {class: 'section-title'}, 'Steps'),
    h('div', {class: 'table-scroll'}, stepsTable(flow.steps)));
}

export function legend(statuses) {
  const items = [h('span', {class: 'legend-item'}, h('span', {class: 'legend-swatch legend-map'}), 'map step (one task per element)'),
    h('span', {class: 'legend-item'}, h('span', {class: 'legend-swatch legend-condition'}), 'conditional step')];
  for (const st of statuses || []) items.push(h('span', {class: 'legend-item'}, badge(st)));
  return h('div', {class: 'legend', 'aria-hidden': 'true'}, items);
}
