// Prints the README's base-image catalog table from the built catalog (npm run build first):
//   node scripts/catalog-table.mjs
// The unit tests check that the README shows every row's source, so a new row fails them until the table is pasted.
const { catalogRows } = await import('../dist/src/images.js');
const code = (pattern) => '`' + pattern + (pattern.endsWith('/') ? '*' : '') + '`';
const lines = ['| images | kind | runs as | UIDs taken | source |', '| --- | --- | --- | --- | --- |'];
for (const row of catalogRows()) {
  const names = row.match.slice(0, 4).map(code).join(', ') + (row.match.length > 4 ? ', ...' : '');
  const url = new URL(row.source);
  const label = url.host === 'github.com' ? url.pathname.split('/').slice(1, 3).join('/') : url.host;
  const taken = row.takenUids.join(', ') || '-';
  lines.push(`| ${names} | ${row.kind} | ${row.defaultUser ?? 'root'} | ${taken} | [${label}](${row.source}) |`);
}
process.stdout.write(lines.join('\n') + '\n');
