// A flow's DAG as SVG, laid out from its shape: layers are columns (a step's layer is the longest
// path to it from a root), the order within a column is improved by a few barycenter sweeps so
// that edges cross less, and edges are curves from a dependency to its dependant.
import {s} from './dom.js';

const NODE_W = 168;
const NODE_H = 44;
const GAP_X = 64;
const GAP_Y = 22;
const PAD = 14;

/** steps: [{step_slug, step_index, dependencies}] -> {layers: [[slug…]…], layerOf: Map}. */
export function layerSteps(steps) {
  const bySlug = new Map(steps.map((step) => [step.step_slug, step]));
  const layerOf = new Map();
  const visiting = new Set();
  const depth = (slug) => {
    if (layerOf.has(slug)) return layerOf.get(slug);
    if (visiting.has(slug)) return 0; // a cycle cannot be registered; never loop on bad data
    visiting.add(slug);
    const deps = (bySlug.get(slug)?.dependencies || []).filter((d) => bySlug.has(d));
    const layer = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(depth));
    visiting.delete(slug);
    layerOf.set(slug, layer);
    return layer;
  };
  const ordered = [...steps].sort((a, b) => (a.step_index ?? 0) - (b.step_index ?? 0));
  for (const step of ordered) depth(step.step_slug);
  const layers = [];
  for (const step of ordered) {
    const layer = layerOf.get(step.step_slug);
    (layers[layer] ||= []).push(step.step_slug);
  }
  return {layers: layers.filter(Boolean), layerOf};
}

function barycenter(slug, neighbours, position) {
  const known = neighbours.filter((n) => position.has(n));
  if (known.length === 0) return position.get(slug);
  return known.reduce((sum, n) => sum + position.get(n), 0) / known.length;
}

/** Reorders each layer in place by the mean position of its neighbours, down then up, a few times. */
export function reduceCrossings(layers, steps) {
  const parents = new Map(steps.map((st) => [st.step_slug, st.dependencies || []]));
  const children = new Map(steps.map((st) => [st.step_slug, []]));
  for (const st of steps) for (const d of st.dependencies || []) children.get(d)?.push(st.step_slug);
  const position = new Map();
  const index = () => layers.forEach((layer) => layer.forEach((slug, i) => position.set(slug, i)));
  index();
  const sweep = (from, to, step, neighbours) => {
    for (let l = from; l !== to; l += step) {
      const keyed = layers[l].map((slug) => [slug, barycenter(slug, neighbours.get(slug) || [], position)]);
      keyed.sort((a, b) => a[1] - b[1]); // stable: ties keep step order
      layers[l] = keyed.map(([slug]) => slug);
      layers[l].forEach((slug, i) => position.set(slug, i));
    }
  };
  for (let round = 0; round < 4; round++) {
    sweep(1, layers.length, 1, parents);
    sweep(layers.length - 2, -1, -1, children);
  }
  return layers;
}

/** Node positions: {nodes: Map slug -> {x, y, layer}, width, height}. */
export function layout(steps) {
  const {layers} = layerSteps(steps);
  reduceCrossings(layers, steps);
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const nodes = new Map();
  layers.forEach((layer, l) => {
    const columnHeight = layer.length * NODE_H + (layer.length - 1) * GAP_Y;
    const top = (height - columnHeight) / 2;
    layer.forEach((slug, i) => {
      nodes.set(slug, {x: PAD + l * (NODE_W + GAP_X), y: top + i * (NODE_H + GAP_Y), layer: l});
    });
  });
  const width = PAD * 2 + layers.length * NODE_W + Math.max(0, layers.length - 1) * GAP_X;
  return {nodes, width: Math.max(width, NODE_W + PAD * 2), height};
}

function edgePath(from, to) {
  const x1 = from.x + NODE_W;
  const y1 = from.y + NODE_H / 2;
  const x2 = to.x - 6;
  const y2 = to.y + NODE_H / 2;
  const bend = Math.max(24, (x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}

function fitText(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function conditionText(condition) {
  const parts = [];
  if (condition.required_input_pattern != null) parts.push(`runs if input contains ${JSON.stringify(condition.required_input_pattern)}`);
  if (condition.forbidden_input_pattern != null) parts.push(`runs unless input contains ${JSON.stringify(condition.forbidden_input_pattern)}`);
  if (condition.when_unmet) parts.push(`when unmet: ${condition.when_unmet}`);
  if (condition.when_exhausted) parts.push(`when exhausted: ${condition.when_exhausted}`);
  return parts.join('; ') || 'conditional step';
}

function node(step, pos, state, onSelect) {
  const isMap = step.step_type === 'map';
  const status = state?.status;
  const classes = ['dag-node', isMap && 'dag-map', step.condition && 'dag-conditional', status && `status-${status}`];
  const label = [`${step.step_slug}`, isMap ? 'map step' : 'step', status ? `status ${status}` : '',
    step.condition ? conditionText(step.condition) : ''].filter(Boolean).join(', ');
  const g = s('g', {
    class: classes,
    transform: `translate(${pos.x} ${pos.y})`,
    testid: `dag-node-${step.step_slug}`,
    'data-status': status || null,
    role: onSelect ? 'link' : 'img',
    tabindex: onSelect ? 0 : null,
    'aria-label': label,
  });
  g.appendChild(s('title', null, label));
  if (isMap) {
    // A stack of cards: a map step runs one task per element of its input array.
    g.appendChild(s('rect', {class: 'dag-shadow', x: 6, y: -6, width: NODE_W, height: NODE_H, rx: 8}));
    g.appendChild(s('rect', {class: 'dag-shadow', x: 3, y: -3, width: NODE_W, height: NODE_H, rx: 8}));
  }
  g.appendChild(s('rect', {class: 'dag-box', width: NODE_W, height: NODE_H, rx: 8}));
  g.appendChild(s('text', {class: 'dag-slug', x: 12, y: 19}, fitText(step.step_slug, 19)));
  const sub = [isMap ? 'map' : 'single'];
  if (state && isMap && state.started_at && Number.isFinite(state.initial_tasks)) {
    sub.push(`${state.initial_tasks - (state.remaining_tasks ?? 0)}/${state.initial_tasks} tasks`);
  } else if (status) {
    sub.push(status);
  }
  g.appendChild(s('text', {class: 'dag-sub', x: 12, y: 35}, sub.join(' · ')));
  if (step.condition) {
    g.appendChild(s('path', {class: 'dag-condition', d: `M ${NODE_W - 16} 6 l 7 7 l -7 7 l -7 -7 z`}));
  }
  if (onSelect) {
    g.addEventListener('click', () => onSelect(step.step_slug));
    g.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        onSelect(step.step_slug);
      }
    });
  }
  return g;
}

/**
 * The DAG of `steps` as an <svg>. `states` (optional): Map slug -> step state from a run, which
 * colours the nodes and edges; `onSelect(slug)` makes nodes clickable; `ended`: the run is over, so
 * a step still marked started is not animated as running.
 */
export function dagSvg(steps, {states, onSelect, testid = 'dag', label = 'Flow graph', ended = false} = {}) {
  const {nodes, width, height} = layout(steps);
  const svg = s('svg', {
    class: ['dag', ended && 'dag-ended'],
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'group',
    'aria-label': label,
    testid,
  });
  const marker = s('marker', {id: 'dag-arrow', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
    s('path', {d: 'M 0 0 L 10 5 L 0 10 z', class: 'dag-arrowhead'}));
  svg.appendChild(s('defs', null, marker));
  const edges = s('g', {class: 'dag-edges'});
  for (const step of steps) {
    for (const dep of step.dependencies || []) {
      const from = nodes.get(dep);
      const to = nodes.get(step.step_slug);
      if (!from || !to) continue;
      const done = states?.get(dep)?.status === 'completed';
      edges.appendChild(s('path', {class: ['dag-edge', done && 'dag-edge-done'], d: edgePath(from, to), 'marker-end': 'url(#dag-arrow)'}));
    }
  }
  svg.appendChild(edges);
  for (const step of steps) {
    const pos = nodes.get(step.step_slug);
    if (pos) svg.appendChild(node(step, pos, states?.get(step.step_slug), onSelect));
  }
  return svg;
}

export {conditionText};
