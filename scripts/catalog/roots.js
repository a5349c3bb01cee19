/**
 * The hand-written catalog files the build resolves FROM lines down to: distributions.json first, then the
 * vendors' files in name order (redhat/ubi9-minimal and the like are vendor rows).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The root catalogs under a catalog directory (src/facts/catalog), as parsed documents, in lookup order. */
export function readRootCatalogs(catalogDir) {
  const documents = [JSON.parse(fs.readFileSync(path.join(catalogDir, 'distributions.json'), 'utf8'))];
  const vendors = path.join(catalogDir, 'vendors');
  if (fs.existsSync(vendors)) {
    for (const name of fs
      .readdirSync(vendors)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      documents.push(JSON.parse(fs.readFileSync(path.join(vendors, name), 'utf8')));
    }
  }
  return documents;
}
