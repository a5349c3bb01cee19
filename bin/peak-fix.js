#!/usr/bin/env node
// Launcher only: the CLI lives in src/cli.ts, compiled to dist/ by `npm run build`.
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
