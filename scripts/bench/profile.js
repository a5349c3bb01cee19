// Summarises a V8 CPU profile (node --cpu-prof): self time per function and per area of the code.
import { readFileSync } from 'node:fs';

/** Where a function lives: the package, or peak-fix's own folder, or node itself. */
export function area(url) {
  if (!url) return '(native, GC, idle)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(?:dist\/)?((?:src\/model|src\/report|src|transforms|bench)\/)?[^/]*$/.exec(url);
  if (own?.[1]) return `peak-fix ${own[1].replace(/\/$/, '')}`;
  if (/\/(?:dist\/)?(?:src|transforms)\//.test(url)) return 'peak-fix';
  return url.replace(/^file:\/\//, '');
}

export function summarise(path, top = 15) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const functions = new Map();
  const areas = new Map();
  for (const [id, micros] of self) {
    const { callFrame } = byId.get(id);
    const file = callFrame.url.replace(/^.*\/(node_modules\/|dist\/)?/, '$1');
    const name = `${callFrame.functionName || '(anonymous)'} ${file ? `${file}:${callFrame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const where = area(callFrame.url);
    areas.set(where, (areas.get(where) ?? 0) + micros);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), share: micros / total }));
  return { totalMs: Math.round(total / 1000), functions: rows(functions), areas: rows(areas) };
}
