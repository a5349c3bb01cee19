// The CLI as tsc compiles it, module by module (dist/src/cli/index.js), to compare with the bundle bin/ runs; with the
// same V8 flag bin/peak-fix.js sets.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
const { main } = await import('../../dist/src/cli/index.js');

process.exitCode = await main(process.argv.slice(2));
