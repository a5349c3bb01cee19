#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli/index.ts, bundled to dist/bundle/ by `npm run build` (scripts/bundle.js).
// --debug maps stack traces back to the TypeScript sources; it must be switched on before the bundle loads.
import { setFlagsFromString } from 'node:v8';

if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
// WebAssembly stays on V8's baseline compiler (the CLI's own process and its workers; not the library, whose host
// process decides). Otherwise V8 recompiles tree-sitter's hot lexer with its optimising compiler: about half a
// second of CPU, which a one-file run then waits for before it can exit, while the baseline code parses the shell
// lines of 2,000 Dockerfiles in the same time (measured; README, Performance).
setFlagsFromString('--liftoff-only');
const { main } = await import('../dist/bundle/cli.js');

process.exitCode = await main(process.argv.slice(2));
