// The baseline of figure 1: the least a tool must do to look at every Dockerfile in a tree, in one process:
// walk the directory, read each file, parse it with dockerfile-ast. Prints the number of files and instructions.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';

let files = 0;
let instructions = 0;
for (const root of process.argv.slice(2)) {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== 'Dockerfile') continue;
    const text = await readFile(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    instructions += DockerfileParser.parse(text).getInstructions().length;
    files++;
  }
}
console.log(`${files} files, ${instructions} instructions`);
