// Writes docs/catalog.md, the built-in catalog as a reviewer reads it: every row and rule of src/facts/catalog/
// with what it says and the Dockerfile or page it was read from. Run after the catalog changes (npm run build first):
//   npm run catalog:docs
// The unit tests fail while docs/catalog.md differs from what this prints.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUTPUT = fileURLToPath(new URL('../../docs/catalog.md', import.meta.url));

const code = (text) => '`' + String(text).replaceAll('|', '\\|') + '`';
const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

function label(url) {
  const parsed = new URL(url);
  return parsed.host === 'github.com' ? parsed.pathname.split('/').slice(1, 3).join('/') : parsed.host;
}

function runsAs(entry) {
  if (!entry.user) return 'root';
  return entry.user.name !== undefined && entry.user.uid !== undefined
    ? `${entry.user.name} (${entry.user.uid})`
    : String(entry.user.name ?? entry.user.uid);
}

function line(names, entry, sourceUrl) {
  const url = sourceUrl(entry.source);
  const taken = [...(entry.takenUids ?? [])].join(', ') || '-';
  return `| ${names} | ${entry.kind} | ${cell(runsAs(entry))} | ${taken} | [${cell(label(url))}](${url}) |`;
}

/** The page, from the catalog files in lookup order and the function that turns a source into a link. */
export function renderCatalogDocs(files, fileNames, sourceUrl) {
  const out = [
    '# The built-in catalog',
    '',
    'What peak-fix knows of public base images, row by row, each with the Dockerfile or page its facts were read',
    'from. Generated from `src/facts/catalog/` by `npm run catalog:docs`; do not edit by hand. The official images',
    'are generated from their own Dockerfiles by `npm run catalog:update` (see [base images](base-images.md)).',
    '',
    'A tag rule (indented) holds for the tags its pattern matches, the row for every other tag. "Kind" is what the',
    'base can do (see [base images](base-images.md#kinds)); "runs as" is the user its Dockerfile ends with.',
  ];
  files.forEach((file, index) => {
    const rows = file.rows ?? [];
    const variants = file.variants ?? [];
    out.push('', `## ${fileNames[index]}`, '', cell(file.description), '');
    out.push('| images | kind | runs as | UIDs taken | source |', '| --- | --- | --- | --- | --- |');
    for (const row of rows) {
      out.push(line(row.match.map(code).join(', '), row, sourceUrl));
      for (const rule of row.tags ?? []) out.push(line(`&nbsp;&nbsp;tag ${code(rule.tag)}`, rule, sourceUrl));
    }
    for (const variant of variants) {
      const names = variant.tag !== undefined ? `any image, tag ${code(variant.tag)}` : `repository ${code(variant.repository)}`;
      out.push(line(names, variant, sourceUrl));
    }
  });
  return out.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { catalogFiles, CATALOG_FILE_NAMES } = await import('../../dist/src/facts/catalog/index.js');
  const { sourceUrl } = await import('../../dist/src/facts/builtin.js');
  writeFileSync(OUTPUT, renderCatalogDocs(catalogFiles(), CATALOG_FILE_NAMES, sourceUrl));
}
