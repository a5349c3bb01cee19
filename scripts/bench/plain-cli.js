// The CLI as tsc compiles it, module by module (dist/src/cli.js), to compare with the bundle bin/ runs.
import { main } from '../../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
