// The floor of figure 1 (issue 21): the least a tool must do to read every Dockerfile in a tree the way peak-fix
// reads it, in one process: walk the directory, read each file, parse it with dockerfile-ast, and parse the script
// of every RUN instruction with tree-sitter-bash (peak-fix parses only the RUN lines a question can have an answer
// in, so this floor is, if anything, high). WebAssembly stays on V8's baseline compiler, as in bin/peak-fix.js.
// Prints the number of files, instructions and RUN scripts parsed.
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { dockerfileTexts } from './dockerfiles.js';

setFlagsFromString('--liftoff-only');
const require = createRequire(import.meta.url);
const { DockerfileParser } = await import('dockerfile-ast');
const { Language, Parser } = await import('web-tree-sitter');
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm')));

let files = 0;
let instructions = 0;
let scripts = 0;
for await (const text of dockerfileTexts(process.argv.slice(2))) {
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    instructions++;
    if (instruction.getKeyword() !== 'RUN') continue;
    const args = instruction.getArgumentsContent();
    if (args === null || args.trimStart().startsWith('[')) continue;
    parser.parse(args.replace(/\\\r?\n/g, ' '))?.delete();
    scripts++;
  }
  files++;
}
console.log(`${files} files, ${instructions} instructions, ${scripts} RUN scripts`);
