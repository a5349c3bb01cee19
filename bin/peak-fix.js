#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli.ts, bundled to dist/bundle/ by `npm run build` (scripts/bundle.js).
// --debug maps stack traces back to the TypeScript sources; it must be switched on before the bundle loads.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main } = await import('../dist/bundle/cli.js');

process.exitCode = await main(process.argv.slice(2));
