// The baseline of figure 1: the least a tool must do to look at every Dockerfile in a tree, in one process:
// walk the directory, read each file, parse it with dockerfile-ast. Prints the number of files and instructions.
import { DockerfileParser } from 'dockerfile-ast';
import { dockerfileTexts } from './dockerfiles.js';

let files = 0;
let instructions = 0;
for await (const text of dockerfileTexts(process.argv.slice(2))) {
  instructions += DockerfileParser.parse(text).getInstructions().length;
  files++;
}
console.log(`${files} files, ${instructions} instructions`);
