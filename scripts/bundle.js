// Part of `npm run build`: bundles the CLI and the pool's worker into dist/bundle/ with esbuild, for start-up
// time (one file to load instead of ~150 modules; see README, Performance). Code that only some runs need
// (the worker pool, verify, the json and sarif reporters...) stays in chunks loaded on demand. Not minified,
// with source maps pointing at the TypeScript sources: `--debug` turns them on for stack traces.
import { cpSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true }); // no chunk of an earlier build left behind

await build({
  entryPoints: { cli: 'src/cli/index.ts', worker: 'src/runner/worker.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // CommonJS dependencies (fast-glob...) call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __peakFixRequire } from 'node:module'; const require = __peakFixRequire(import.meta.url);" },
  // Loaded from node_modules, not bundled: tinypool starts its workers from its own files (found from its
  // import.meta.url); dockerfile-ast (CommonJS) runs in the hot loop, where the bundle's CommonJS interop
  // getters cost 4% of the CPU time. web-tree-sitter and tree-sitter-bash (the shell parser) and
  // @cdktf/hcl2json (bake files) load their .wasm files relative to themselves.
  external: ['tinypool', 'dockerfile-ast', 'web-tree-sitter', 'tree-sitter-bash', '@cdktf/hcl2json'],
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
});

// The built-in catalog's data files are read at run time from beside the code that reads them (src/facts/catalog/
// index.ts): next to the bundle's chunks, and next to tsc's output (tsc copies only JSON that is imported).
for (const to of ['dist/bundle', 'dist/src/facts/catalog']) {
  cpSync('src/facts/catalog', to, { recursive: true, filter: (source) => !source.endsWith('.ts') });
}
