// One run: its graph coloured by step state, its steps with their tasks, its input and output,
// and the run-control buttons when the server allows actions. Live: the server's event stream
// for the run (a snapshot on connect, then one event per notification) triggers a refetch,
// debounced so that a burst of task completions costs one request.
import {api, badge, between, errorBox, h, jsonView, post, show, tableHead, timeCell} from './dom.js';
import {dagSvg} from './dag.js';
import {legend} from './flows.js';

const DEBOUNCE_MS = 150;
const STEP_STATUSES = ['created', 'started', 'completed', 'failed', 'skipped', 'cancelled'];

/** The run's status as a person reads it: a cancelled run is 'failed' in pgflow.runs. */
function runStatus(run) {
  return run.cancelled_at ? 'cancelled' : run.status;
}

/** A step of a cancelled run that never finished shows as cancelled. */
function stepStatus(run, step) {
  if (run.cancelled_at && (step.status === 'created' || step.status === 'started')) return 'cancelled';
  return step.status;
}

/** Keeps a <details>' open state across the live page's redraws. */
function remembered(details, key, openState) {
  if (openState.has(key)) details.open = openState.get(key);
  details.addEventListener('toggle', () => openState.set(key, details.open));
  return details;
}

function taskRow(step, task, openState) {
  const ended = task.completed_at || task.failed_at;
  return h('tr', {testid: `task-${task.task_index}`, 'data-status': task.status},
    h('td', {class: 'num'}, task.task_index),
    h('td', null, badge(task.status)),
    h('td', {class: 'num'}, task.attempts_count ?? '—'),
    h('td', null, timeCell(task.queued_at)),
    h('td', null, timeCell(task.started_at)),
    h('td', null, timeCell(ended)),
    h('td', {class: 'num'}, task.started_at ? between(task.started_at, ended, task.status === 'started') : '—'),
    h('td', {class: 'task-error'}, task.error_message ? h('pre', {class: 'error-text'}, task.error_message) : ''),
    h('td', null, task.output === null || task.output === undefined ? h('span', {class: 'muted'}, '—')
      : remembered(jsonView('output', task.output), `task:${step.step_slug}:${task.task_index}`, openState)));
}

function tasksTable(step, openState) {
  const tasks = step.tasks || [];
  if (tasks.length === 0) return h('p', {class: 'muted'}, step.status === 'created' ? 'No tasks yet.' : 'No tasks.');
  const capped = Number.isFinite(step.tasks_total) && step.tasks_total > tasks.length;
  return [
    h('div', {class: 'table-scroll'}, h('table', {class: 'table tasks', testid: `tasks-${step.step_slug}`},
      tableHead(['task', 'status', 'attempts', 'queued', 'started', 'ended', 'took', 'error', 'output'], ['task', 'attempts', 'took']),
      h('tbody', null, tasks.map((task) => taskRow(step, task, openState))))),
    capped ? h('p', {class: 'muted'}, `Showing the first ${tasks.length} of ${step.tasks_total} tasks.`) : null,
  ];
}

function stepSection(run, step, openState) {
  const status = stepStatus(run, step);
  const key = `step:${step.step_slug}`;
  const ended = step.completed_at || step.failed_at || step.skipped_at;
  // A step still marked started in an ended run stopped when the run did.
  const running = status === 'started' && run.status === 'started';
  const until = ended || (running ? null : run.completed_at || run.failed_at);
  const defaultOpen = status === 'failed' || status === 'started';
  const details = h('details', {
    class: ['step', `status-${status}`],
    id: `step-${step.step_slug}`,
    testid: `step-${step.step_slug}`,
    'data-status': status,
    open: openState.has(key) ? openState.get(key) : defaultOpen,
  });
  details.addEventListener('toggle', () => openState.set(key, details.open));
  const tasksDone = step.started_at && Number.isFinite(step.initial_tasks)
    ? `${step.initial_tasks - (step.remaining_tasks ?? 0)}/${step.initial_tasks} tasks` : '';
  details.append(
    h('summary', null,
      badge(status, `step-status-${step.step_slug}`),
      h('code', {class: 'step-slug'}, step.step_slug),
      step.step_type === 'map' ? h('span', {class: 'tag tag-map'}, 'map') : null,
      h('span', {class: 'muted step-meta'}, [tasksDone, step.started_at ? `took ${between(step.started_at, until, running)}` : '']
        .filter(Boolean).join(' · ')),
      step.error_message ? h('span', {class: 'step-error-preview'}, step.error_message.split('\n')[0]) : null),
    h('div', {class: 'step-body'},
      h('dl', {class: 'meta'},
        h('dt', null, 'started'), h('dd', null, timeCell(step.started_at)),
        h('dt', null, step.failed_at ? 'failed' : step.skipped_at ? 'skipped' : step.completed_at ? 'completed' : 'ended'),
        h('dd', null, timeCell(ended)),
        h('dt', null, 'depends on'), h('dd', null, step.dependencies?.length ? step.dependencies.join(', ') : 'nothing (root)')),
      step.skip_reason ? h('p', null, h('strong', null, 'Skipped: '), step.skip_reason) : null,
      step.error_message ? h('pre', {class: 'error-text', testid: `step-error-${step.step_slug}`}, step.error_message) : null,
      tasksTable(step, openState)));
  return details;
}

function actionButtons(ctx, run, refresh, setMessage) {
  if (!ctx.settings.actionsAllowed) return null;
  const status = runStatus(run);
  const actions = [];
  if (status === 'started') actions.push(['cancel', 'Cancel run', 'Cancel this run? Its active tasks stop being worked on.']);
  if (status === 'failed' || status === 'cancelled') {
    actions.push(['retry', 'Retry', 'Start a fresh run with the same input?']);
    actions.push(['resume', 'Resume', 'Start a run that reuses the completed steps of this one?']);
  }
  if (actions.length === 0) return null;
  return h('div', {class: 'actions', testid: 'run-actions'}, actions.map(([action, label, question]) => {
    const button = h('button', {type: 'button', class: ['button', action === 'cancel' ? 'danger' : 'primary'], testid: `action-${action}`}, label);
    button.addEventListener('click', async () => {
      if (!window.confirm(question)) return;
      button.disabled = true;
      try {
        const result = await post(`/api/runs/${encodeURIComponent(run.run_id)}/${action}`);
        const next = result?.new_run_id || (result?.run_id && result.run_id !== run.run_id ? result.run_id : null);
        if (next) location.hash = `#/runs/${encodeURIComponent(next)}`;
        else refresh();
      } catch (error) {
        setMessage(errorBox(error));
        button.disabled = false;
      }
    });
    return button;
  }));
}

function header(ctx, data, live, refresh, setMessage) {
  const {run} = data;
  const status = runStatus(run);
  const ended = run.completed_at || run.failed_at;
  return [
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/runs'}, 'Runs'), ' / ',
      h('a', {href: `#/runs?flow=${encodeURIComponent(run.flow_slug)}`}, run.flow_slug), ' /'),
    h('div', {class: 'title-row'},
      h('h1', null, 'Run ', h('span', {class: 'mono run-id', testid: 'run-id'}, run.run_id)),
      badge(status, 'run-status'),
      live,
      actionButtons(ctx, run, refresh, setMessage)),
    h('dl', {class: 'meta run-meta'},
      h('dt', null, 'flow'), h('dd', null, h('a', {href: `#/flows/${encodeURIComponent(run.flow_slug)}`}, run.flow_slug)),
      h('dt', null, 'started'), h('dd', null, timeCell(run.started_at)),
      h('dt', null, run.cancelled_at ? 'cancelled' : run.failed_at ? 'failed' : run.completed_at ? 'completed' : 'ended'),
      h('dd', null, timeCell(run.cancelled_at || ended)),
      h('dt', null, 'duration'), h('dd', null, between(run.started_at, ended, run.status === 'started')),
      h('dt', null, 'steps left'), h('dd', {testid: 'run-remaining'}, run.remaining_steps ?? '—')),
  ];
}

/** Step shapes for the graph, with conditions from the flow's definition when it has them. */
function graphSteps(steps, flow) {
  const conditions = new Map((flow?.steps || []).map((st) => [st.step_slug, st.condition]));
  return [...steps].sort((a, b) => a.step_index - b.step_index).map((st) => ({...st, condition: conditions.get(st.step_slug) || null}));
}

function liveIndicator() {
  const el = h('span', {class: 'live', testid: 'live-indicator', 'data-state': 'connecting', role: 'status'}, 'connecting…');
  const set = (state, text) => {
    el.dataset.state = state;
    el.textContent = text;
  };
  return {el, set};
}

export async function runPage(ctx) {
  const [id] = ctx.args;
  const path = `/api/runs/${encodeURIComponent(id)}`;
  const openState = new Map();
  const live = liveIndicator();
  const message = h('div', {class: 'message'});
  const setMessage = (el) => message.replaceChildren(el || '');
  let flow = null;

  const render = (data) => {
    const steps = graphSteps(data.steps, flow);
    const states = new Map(steps.map((st) => [st.step_slug, {...st, status: stepStatus(data.run, st)}]));
    const select = (slug) => {
      const section = document.getElementById(`step-${slug}`);
      if (!section) return;
      section.open = true;
      openState.set(`step:${slug}`, true);
      section.scrollIntoView({behavior: 'smooth', block: 'start'});
    };
    show(ctx,
      ...header(ctx, data, live.el, refresh, setMessage),
      message,
      h('section', {class: 'card', 'aria-label': 'Graph'},
        h('div', {class: 'dag-scroll'}, dagSvg(steps, {states, onSelect: select, label: `Graph of run ${data.run.run_id}`, ended: data.run.status !== 'started'})),
        legend(STEP_STATUSES)),
      h('section', {class: 'io', 'aria-label': 'Input and output'},
        remembered(jsonView('input', data.run.input, {testid: 'run-input'}), 'input', openState),
        data.run.output === null || data.run.output === undefined ? null
          : remembered(jsonView('output', data.run.output, {testid: 'run-output'}), 'output', openState)),
      h('h2', {class: 'section-title'}, 'Steps'),
      h('div', {class: 'steps', testid: 'steps'}, steps.map((st) => stepSection(data.run, st, openState))));
  };

  // One fetch at a time; events during a fetch cause one more fetch after it.
  let timer = null;
  let inFlight = false;
  let again = false;
  async function refresh() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      const data = await api(path);
      if (ctx.alive()) render(data);
    } catch (error) {
      if (ctx.alive()) setMessage(errorBox(error));
    } finally {
      inFlight = false;
      if (again && ctx.alive()) {
        again = false;
        refresh();
      }
    }
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  };

  const first = await api(path); // a 404 or 400 shows as the page's error, with no stream opened
  [flow] = await Promise.all([api(`/api/flows/${encodeURIComponent(first.run.flow_slug)}`).catch(() => null)]);
  if (!ctx.alive()) return;
  render(first);

  const events = new EventSource(`${path}/events`);
  events.addEventListener('open', () => live.set('live', 'live'));
  events.addEventListener('error', () => live.set('reconnecting', 'reconnecting…'));
  events.addEventListener('snapshot', schedule);
  events.addEventListener('pgflow', schedule);
  events.addEventListener('message', schedule);
  ctx.onCleanup(() => {
    events.close();
    clearTimeout(timer);
  });
}
