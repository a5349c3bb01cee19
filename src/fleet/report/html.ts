import type { FleetData, RuleRow } from './data.js';
import { OUTCOMES, STATUSES } from './data.js';

/**
 * `peak-fix report --html FILE`: one self-contained page. No request leaves it: styles and the script are
 * inline, charts are inline SVG, and a Content-Security-Policy of `default-src 'none'` forbids anything else.
 * The table is plain HTML (readable without the script); the script only sorts and filters its rows.
 */

const STATUS_COLOR: Record<string, string> = { changed: '#2f7ed8', unchanged: '#8bbc21', skipped: '#f2b701', error: '#d9534f' };
const SEVERITY_COLOR: Record<string, string> = { error: '#d9534f', warning: '#f0ad4e', info: '#5bc0de' };

function esc(value: string | number | undefined): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The geometry of a horizontal bar chart: the height of a row and the width of its label column. */
interface Bars {
  rowHeight: number;
  labelWidth: number;
}

const CHART_WIDTH = 560;
const FAMILY_BARS: Bars = { rowHeight: 28, labelWidth: 110 };
const RULE_BARS: Bars = { rowHeight: 26, labelWidth: 190 };

/**
 * A horizontal bar chart in inline SVG: `bar` draws each row's `<g>` at its `y`, and `scale` turns a value into a
 * bar's width against the largest row.
 */
function barChart<T>(
  id: string,
  label: string,
  bars: Bars,
  rows: readonly T[],
  value: (row: T) => number,
  bar: (row: T, y: number, scale: (value: number) => number) => string,
): string {
  const max = Math.max(...rows.map(value));
  const scale = (n: number): number => Math.max(2, (n / max) * (CHART_WIDTH - bars.labelWidth - 50));
  const drawn = rows.map((row, index) => bar(row, index * bars.rowHeight + 4, scale)).join('');
  return `<svg id="${id}" role="img" aria-label="${label}" viewBox="0 0 ${CHART_WIDTH} ${rows.length * bars.rowHeight + 8}" width="${CHART_WIDTH}">${drawn}</svg>`;
}

function familyChart(data: FleetData): string {
  if (data.families.length === 0) return '<p>No Dockerfiles.</p>';
  const chart = barChart('chart-family', 'Dockerfiles by base family and status', FAMILY_BARS, data.families, (f) => f.total, familyBar);
  const legend = STATUSES.map((s) => `<span><i style="background:${STATUS_COLOR[s]}"></i>${s}</span>`).join('');
  return `${chart}<p class="legend">${legend}</p>`;
}

/** A family's bar: one segment per status, its total after it. */
function familyBar(family: FleetData['families'][number], y: number, scale: (value: number) => number): string {
  const { rowHeight: row, labelWidth: label } = FAMILY_BARS;
  let x = label;
  const segments = STATUSES.filter((s) => family.counts[s] > 0)
    .map((status) => {
      const w = scale(family.counts[status]);
      const rect = `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${row - 8}" fill="${STATUS_COLOR[status]}" data-status="${status}" data-count="${family.counts[status]}"><title>${esc(family.family)}: ${family.counts[status]} ${status}</title></rect>`;
      x += w;
      return rect;
    })
    .join('');
  return (
    `<g class="bar" data-family="${esc(family.family)}" data-total="${family.total}">` +
    `<text x="${label - 8}" y="${y + row / 2}" text-anchor="end">${esc(family.family)}</text>${segments}` +
    `<text x="${(x + 6).toFixed(1)}" y="${y + row / 2}">${family.total}</text></g>`
  );
}

function ruleChart(data: FleetData): string {
  if (data.rules.length === 0) return '<p>No findings.</p>';
  return barChart('chart-rules', 'Findings by rule', RULE_BARS, data.rules, (r) => r.findings, ruleBar);
}

/** A rule's bar in its severity's colour, its count after it. */
function ruleBar(rule: RuleRow, y: number, scale: (value: number) => number): string {
  const { rowHeight: row, labelWidth: label } = RULE_BARS;
  const w = scale(rule.findings);
  return (
    `<g class="bar" data-rule="${esc(rule.rule)}" data-count="${rule.findings}">` +
    `<text x="${label - 8}" y="${y + row / 2}" text-anchor="end">${esc(rule.rule)}</text>` +
    `<rect x="${label}" y="${y}" width="${w.toFixed(1)}" height="${row - 8}" fill="${SEVERITY_COLOR[rule.severity] ?? '#999'}"><title>${esc(rule.rule)} (${rule.severity}): ${rule.findings} findings in ${rule.repositories} repositories</title></rect>` +
    `<text x="${(label + w + 6).toFixed(1)}" y="${y + row / 2}">${rule.findings}</text></g>`
  );
}

const COLUMNS = [
  { key: 'repository', label: 'Repository', type: 'text' },
  { key: 'outcome', label: 'Outcome', type: 'text' },
  { key: 'file', label: 'Dockerfile', type: 'text' },
  { key: 'status', label: 'Status', type: 'text' },
  { key: 'family', label: 'Family', type: 'text' },
  { key: 'base', label: 'Base image', type: 'text' },
  { key: 'findings', label: 'Findings', type: 'number' },
  { key: 'detail', label: 'Rules / reason', type: 'text' },
] as const;

function tableRows(data: FleetData): string {
  const rows: string[] = [];
  for (const repo of data.repositories) {
    const files = repo.files.length > 0 ? repo.files : [undefined];
    for (const file of files) {
      const rules = file ? [...new Set(file.findings.map((f) => f.rule))].join(', ') : '';
      const detail = file?.error ?? file?.skipped ?? (rules || (file ? '' : (repo.reason ?? 'no Dockerfile')));
      const cells = [
        repo.repository,
        repo.outcome,
        file?.path ?? '',
        file?.status ?? '',
        file?.family ?? '',
        file?.baseImage ?? '',
        file ? file.findings.length : 0,
        detail,
      ];
      rows.push(
        `<tr data-outcome="${esc(repo.outcome)}">${cells.map((value, i) => `<td data-key="${COLUMNS[i].key}"${COLUMNS[i].type === 'number' ? ' class="num"' : ''}>${esc(value)}</td>`).join('')}</tr>`,
      );
    }
  }
  return rows.join('\n');
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin:0 0 4px}h2{margin:28px 0 8px;font-size:18px}.sub{color:#666;margin:0 0 16px}
#totals{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card .n{display:block;font-size:24px;font-weight:600}.card.failed .n{color:#d9534f}.card.needs-person .n{color:#c77c02}.card.migrated .n{color:#2f7ed8}.card.compliant .n{color:#4c8c16}
svg text{font-size:12px;dominant-baseline:middle;fill:#333}.legend span{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.controls{display:flex;gap:10px;align-items:center;margin:8px 0}input[type=search]{padding:5px 8px;min-width:280px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th button{all:unset;cursor:pointer;font-weight:600}th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.num{text-align:right}tr[data-outcome=failed] td[data-key=outcome]{color:#d9534f;font-weight:600}tr[data-outcome=needs-person] td[data-key=outcome]{color:#c77c02;font-weight:600}
`;

/** Sorting (click a header; again to reverse) and filtering (text in any cell, and the outcome). */
const SCRIPT = `
(function () {
  var table = document.getElementById('files');
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var outcome = document.getElementById('outcome');
  var shown = document.getElementById('shown');
  var headers = table.tHead.rows[0].cells;
  function value(row, index, type) {
    var text = row.cells[index].textContent;
    return type === 'number' ? Number(text) : text.toLowerCase();
  }
  function sort(index) {
    var th = headers[index];
    var type = th.getAttribute('data-type');
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, index, type), y = value(b, index, type);
      return x < y ? -dir : x > y ? dir : 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function apply() {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var wanted = outcome.value;
    var count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var text = row.textContent.toLowerCase();
      var ok = (!wanted || row.getAttribute('data-outcome') === wanted) && words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) count++;
    });
    shown.textContent = count + ' of ' + body.rows.length + ' rows';
  }
  Array.prototype.forEach.call(headers, function (th, index) {
    th.querySelector('button').addEventListener('click', function () { sort(index); });
  });
  filter.addEventListener('input', apply);
  outcome.addEventListener('change', apply);
  apply();
})();
`;

export function fleetHtml(data: FleetData, generatedAt: string): string {
  const { totals } = data;
  const card = (key: string, n: number, label: string) =>
    `<div class="card ${key}" data-total="${key}"><span class="n">${n}</span>${esc(label)}</div>`;
  const cards = [
    card('repositories', totals.repositories, 'repositories'),
    card('migrated', totals.outcomes.migrated, 'migrated'),
    card('needs-person', totals.outcomes['needs-person'], 'need a person'),
    card('failed', totals.outcomes.failed, 'failed'),
    card('compliant', totals.outcomes.compliant, 'already compliant'),
    card(
      'files',
      STATUSES.reduce((sum, s) => sum + totals.files[s], 0),
      'Dockerfiles',
    ),
    card('findings', totals.findings, 'findings'),
  ].join('');
  const options = OUTCOMES.map((o) => `<option value="${o}">${o}</option>`).join('');
  const head = COLUMNS.map(
    (c) => `<th scope="col" data-key="${c.key}" data-type="${c.type}"><button type="button">${esc(c.label)}</button></th>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peak-fix fleet report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>peak-fix fleet report</h1>
<p class="sub">${totals.repositories} repositories from ${data.lines} result lines, generated ${esc(generatedAt)}.</p>
<section id="totals">${cards}</section>
<h2>Dockerfiles by base family and status</h2>
${familyChart(data)}
<h2>Findings by rule</h2>
${ruleChart(data)}
<h2>Base images no catalog knows</h2>
${unknownBasesTable(data)}
<h2>Repositories and Dockerfiles</h2>
<div class="controls">
<input id="filter" type="search" placeholder="Filter: repository, file, rule, image..." aria-label="Filter rows">
<select id="outcome" aria-label="Outcome"><option value="">all outcomes</option>${options}</select>
<span id="shown"></span>
</div>
<table id="files">
<thead><tr>${head}</tr></thead>
<tbody>
${tableRows(data)}
</tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The unknown bases by how many Dockerfiles use them: the rows the organisation's catalog should add. */
function unknownBasesTable(data: FleetData): string {
  if (data.unknownBases.length === 0) return '<p>None: every base image is known.</p>';
  const rows = data.unknownBases
    .map((row) => `<tr><td><code>${esc(row.image)}</code></td><td>${row.files}</td><td>${row.repositories}</td></tr>`)
    .join('');
  return `<table id="unknown-bases"><thead><tr><th>image</th><th>Dockerfiles</th><th>repositories</th></tr></thead><tbody>${rows}</tbody></table>`;
}
