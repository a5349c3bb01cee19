/**
 * Looking a reference up in catalog rows, as peak-fix reads them: repository names without docker.io/library/,
 * exact names before prefixes (longer prefixes first), then the first tag rule whose regex matches the lower-cased
 * tag, else the row's own facts.
 */
import { parseReference as parseImageReference } from '../../dist/src/facts/reference.js';

/** The facts a row or rule gives (what the round trip compares). */
export const FACT_KEYS = ['kind', 'user', 'takenUids', 'takenNames', 'home', 'find', 'packageManager'];

/**
 * `registry/path/name:tag@digest` -> repository as the catalog names it, and the tag in lower case ('' when none):
 * peak-fix's own parser (npm run build first), so the generator and the tool read a name alike.
 */
export function parseReference(ref) {
  const { repository, tag } = parseImageReference(ref);
  return { repository, tag: tag.toLowerCase() };
}

function covers(pattern, repository) {
  return pattern.endsWith('/') ? repository.startsWith(pattern) : repository === pattern;
}

/** The row describing a repository: an exact name wins over prefixes, a longer prefix over a shorter one. */
export function findRow(rows, repository) {
  let best = null;
  let bestScore = -1;
  for (const row of rows) {
    if ((row.except ?? []).some((p) => covers(p, repository))) continue;
    for (const pattern of row.match) {
      if (!covers(pattern, repository)) continue;
      const score = pattern.endsWith('/') ? pattern.length : Number.MAX_SAFE_INTEGER;
      if (score > bestScore) {
        best = row;
        bestScore = score;
      }
    }
  }
  return best;
}

/** Only the facts of a row or rule (kind, user, takenUids...), without match, tag, source or note. */
export function particulars(ruleOrRow) {
  const out = {};
  for (const key of FACT_KEYS) if (ruleOrRow[key] !== undefined) out[key] = ruleOrRow[key];
  return out;
}

/** The rule of a row for a tag (first match), or undefined when the row's own facts apply. */
export function matchingRule(row, tag) {
  const t = tag.toLowerCase();
  return (row.tags ?? []).find((rule) => new RegExp(rule.tag).test(t));
}

/** Facts (and the source they come from) for a repository and tag in rows, or undefined. */
export function lookup(rows, repository, tag) {
  const row = findRow(rows, repository);
  if (!row) return undefined;
  const rule = matchingRule(row, tag);
  return { row, rule, facts: particulars(rule ?? row), source: (rule ?? row).source };
}

/** A canonical text of facts, to compare them: keys sorted, lists sorted, empty lists dropped. */
export function factsKey(facts) {
  const out = {};
  for (const key of FACT_KEYS) {
    let v = facts[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      if (v.length === 0) continue;
      v = [...v].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } else if (v && typeof v === 'object') {
      v = Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, v[k]]),
      );
    }
    out[key] = v;
  }
  return JSON.stringify(out);
}
