// The walk both parser floors of the bench share: the text of every file named Dockerfile under the roots given.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function* dockerfileTexts(roots) {
  for (const root of roots) {
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name !== 'Dockerfile') continue;
      yield await readFile(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    }
  }
}
