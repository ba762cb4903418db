// The dashboard's single-page app: a hash router that renders one page at a time into <main>.
// Each page gets a context whose cleanups (live connections, timers) run when the route changes,
// and whose `alive()` turns false then, so a slow fetch never draws over the next page.
import {api, errorBox, h} from './dom.js';
import {flowsPage, flowPage} from './flows.js';
import {runsPage} from './runs.js';
import {runPage} from './run.js';
import {workersPage} from './workers.js';

const routes = [
  {pattern: /^\/?$/, page: flowsPage, nav: 'flows'},
  {pattern: /^\/flows\/?$/, page: flowsPage, nav: 'flows'},
  {pattern: /^\/flows\/([^/]+)$/, page: flowPage, nav: 'flows'},
  {pattern: /^\/runs\/?$/, page: runsPage, nav: 'runs'},
  {pattern: /^\/runs\/([^/]+)$/, page: runPage, nav: 'runs'},
  {pattern: /^\/workers\/?$/, page: workersPage, nav: 'workers'},
];

let current = null;
let settings = null;

/** What /api/overview says about the server; fetched once (actions_allowed missing = false). */
async function serverSettings() {
  if (!settings) {
    try {
      const overview = await api('/api/overview');
      settings = {actionsAllowed: overview?.actions_allowed === true};
    } catch {
      settings = {actionsAllowed: false};
    }
  }
  return settings;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return {path, params: new URLSearchParams(search)};
}

function markNav(active) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let generation = 0;

async function route() {
  const mine = ++generation;
  const settingsNow = await serverSettings();
  if (mine !== generation) return; // another hash change came first: it renders
  if (current) current.close();
  const {path, params} = parseHash();
  const main = document.getElementById('main');
  const match = routes.map((r) => ({r, m: r.pattern.exec(path)})).find((x) => x.m);
  const cleanups = [];
  let alive = true;
  const ctx = {
    params,
    args: match ? match.m.slice(1).map(decodeURIComponent) : [],
    main,
    alive: () => alive,
    onCleanup: (fn) => cleanups.push(fn),
    close() {
      alive = false;
      for (const fn of cleanups.splice(0)) fn();
    },
    settings: settingsNow,
  };
  current = ctx;
  markNav(match?.r.nav);
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', {class: 'muted loading'}, 'Loading…'));
  if (!match) {
    main.replaceChildren(errorBox(new Error(`No page at #${path}`)));
  } else {
    try {
      await match.r.page(ctx);
    } catch (error) {
      if (ctx.alive()) main.replaceChildren(errorBox(error));
    }
  }
  if (ctx.alive()) main.removeAttribute('aria-busy');
}

window.addEventListener('hashchange', route);
route(); // modules run after the document is parsed
