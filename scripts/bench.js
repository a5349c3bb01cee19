#!/usr/bin/env node
// npm run bench: how fast the engine and a whole-tree run are. Timing goals live here, not in tests.
// Uses the built CLI (dist/); run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fixDockerfile } from '../dist/src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'fixtures');
const inputs = readdirSync(fixtures).map((name) => readFileSync(join(fixtures, name, 'input.Dockerfile'), 'utf8'));
const files = Number(process.env.BENCH_FILES ?? 2000);

function time(label, fn, repeat = 1, warmUp = true) {
  if (warmUp) fn(); // the first parse after load costs ~35 ms
  const start = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  const ms = (performance.now() - start) / repeat;
  console.log(`${label.padEnd(48)} ${ms.toFixed(1).padStart(9)} ms`);
  return ms;
}

const big = inputs.join('\n'); // many stages, nearly every construct
console.log(`${inputs.length} fixtures, ${(big.length / 1024).toFixed(0)} KB concatenated; ${files} files in the tree run\n`);
time(`engine: all ${inputs.length} fixtures once`, () => inputs.forEach((t) => fixDockerfile(t)), 20);
time('engine: one file made of every fixture', () => fixDockerfile(big), 20);
// Work per instruction must stay flat: 16,000 instructions (~0.5 MB) once took 100 s.
for (const n of [4000, 16000]) {
  const long =
    'FROM debian\n' +
    Array.from({ length: n }, (_, i) => (i % 3 ? `RUN echo ${i} && mkdir -p /srv/d${i}\n` : `COPY f${i} /srv/f${i}\n`)).join('');
  time(`engine: ${n} instructions (${(long.length / 1024).toFixed(0)} KB)`, () => fixDockerfile(long), 3);
}

const dir = mkdtempSync(join(tmpdir(), 'peak-fix-bench-'));
try {
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `repo-${Math.floor(i / 10)}`, `svc-${i % 10}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'Dockerfile'), inputs[i % inputs.length]);
  }
  const cli = join(root, 'bin', 'peak-fix.js');
  const run = (...args) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  // Each CLI run is a fresh process, so no warm-up; --write must meet files that still need migrating.
  time(`cli: dry run over ${files} files (diffs to a pipe)`, () => run('.'), 1, false);
  time(`cli: --check over ${files} files`, () => run('--check', '.'), 1, false);
  time(`cli: --write over ${files} files`, () => run('--write', '.'), 1, false);
  time(`cli: --check over ${files} migrated files`, () => run('--check', '.'), 1, false);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
