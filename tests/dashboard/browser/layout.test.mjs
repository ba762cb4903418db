// dashboard.layout: the DAG layout of tools/dashboard/assets/dag.js, in node without a browser:
// layers are longest paths from a root, barycenter sweeps remove avoidable crossings, and no two
// nodes overlap.  node layout.test.mjs
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {join} from 'node:path';

const assets = join(fileURLToPath(new URL('.', import.meta.url)), '../../../tools/dashboard/assets');
const {layerSteps, reduceCrossings, layout} = await import(pathToFileURL(join(assets, 'dag.js')).href);

const step = (slug, index, ...dependencies) => ({step_slug: slug, step_index: index, dependencies});

function crossings(layers, steps) {
  const position = new Map();
  layers.forEach((layer) => layer.forEach((slug, i) => position.set(slug, i)));
  const layerOf = new Map();
  layers.forEach((layer, l) => layer.forEach((slug) => layerOf.set(slug, l)));
  const edges = steps.flatMap((st) => st.dependencies.map((d) => [d, st.step_slug]))
    .filter(([d, s]) => layerOf.get(s) === layerOf.get(d) + 1);
  let count = 0;
  for (const [a1, b1] of edges) {
    for (const [a2, b2] of edges) {
      if (layerOf.get(a1) !== layerOf.get(a2)) continue;
      if (position.get(a1) < position.get(a2) && position.get(b1) > position.get(b2)) count++;
    }
  }
  return count;
}

test('a step sits one layer after its deepest dependency', () => {
  const steps = [step('a', 0), step('b', 1, 'a'), step('c', 2, 'b'), step('d', 3, 'a', 'c')];
  const {layers, layerOf} = layerSteps(steps);
  assert.deepEqual(layers, [['a'], ['b'], ['c'], ['d']]);
  assert.equal(layerOf.get('d'), 3);
});

test('independent roots share the first layer, in step order', () => {
  const {layers} = layerSteps([step('x', 0), step('y', 1), step('z', 2, 'x', 'y')]);
  assert.deepEqual(layers, [['x', 'y'], ['z']]);
});

test('sweeps remove the crossing of two parallel chains declared in opposite orders', () => {
  const steps = [step('r1', 0), step('r2', 1), step('from_r2', 2, 'r2'), step('from_r1', 3, 'r1')];
  const {layers} = layerSteps(steps);
  assert.equal(crossings(layers, steps), 1);
  reduceCrossings(layers, steps);
  assert.equal(crossings(layers, steps), 0);
});

test('a wide fan-out lays out without overlapping nodes', () => {
  const steps = [step('root', 0), ...Array.from({length: 12}, (_, i) => step(`leaf_${i}`, i + 1, 'root')), step('join', 13, ...Array.from({length: 12}, (_, i) => `leaf_${i}`))];
  const {nodes, width, height} = layout(steps);
  const boxes = [...nodes.values()];
  for (const a of boxes) {
    assert.ok(a.x >= 0 && a.y >= 0 && a.x <= width && a.y <= height);
    for (const b of boxes) {
      if (a !== b && a.x === b.x) assert.ok(Math.abs(a.y - b.y) >= 44, 'nodes of one layer do not overlap');
    }
  }
});

test('a dependency outside the steps or a cycle in bad data does not hang', () => {
  const {layers} = layerSteps([step('a', 0, 'missing'), step('b', 1, 'c'), step('c', 2, 'b')]);
  assert.equal(layers.flat().length, 3);
});
