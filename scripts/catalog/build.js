/**
 * Build phase: the recorded evidence and the hand-written catalogs -> src/facts/catalog/official-images.json.
 *
 * Each entry's facts follow its FROM through other official images down to a row of distributions.json (or of a
 * vendor's file, for bases such as redhat/ubi9-minimal): kind,
 * find and package manager from that root (its tag rules included), the user from the nearest USER along the
 * chain, the UIDs and names taken as the union along it. One row per official image: the facts of its `latest`
 * entry (else the most common), and tag rules learned from the words of its tags so that tags not in today's
 * library still resolve. Same evidence, same bytes.
 */
import { factsKey, findRow, lookup, matchingRule, parseReference, particulars } from './lookup.js';

/** Whether find is there in each kind, as the schema defines the kinds. */
const KIND_FIND = { debian: true, rhel: false, 'rhel-minimal': false, alpine: true, distroless: false, windows: false, unknown: false };
const WINDOWS_BASE = /^(mcr\.microsoft\.com\/(windows|windowsservercore|nanoserver)|microsoft\/(windowsservercore|nanoserver))([/:]|$)/;
const WINDOWS_CONSTRAINT = /^(windowsservercore|nanoserver)/;

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The value with the keys of every object in it sorted, so that its JSON is the same whatever order it was built in. */
export function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort(compare)
        .map((k) => [k, sortKeys(value[k])]),
    );
  return value;
}

/** JSON with sorted keys, two-space indentation and a final newline. */
export function stringify(value) {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/**
 * The words of a tag: split on `-`; an item that starts with a letter stands for itself without its trailing
 * version (`alpine3.21` -> `alpine*`, any alpine) and, when it has one, also as written (`alpine3.21`, that release
 * only). An item that starts with a digit is a version and never a word, except the leading one, whose prefixes
 * are version words (`3.13.1-alpine3.21` -> `3`, `3.13`, `3.13.1`; `8u342-jre` -> `8`, `8u342`): a rule on a
 * version prefix gives the tags of that line that are not in the evidence (`3.13.5`).
 */
export function tagWords(tag) {
  const words = new Set();
  const items = tag.toLowerCase().split('-');
  if (/^[0-9]/.test(items[0])) {
    const first = items[0];
    for (let k = 1; k <= first.length; k++) {
      if (/[0-9]$/.test(first.slice(0, k)) && (k === first.length || /[._u+]/.test(first[k]))) words.add(`=${first.slice(0, k)}`);
    }
  }
  for (const item of items) {
    if (item === '' || /^[0-9]/.test(item)) continue;
    const stem = item.replace(/[0-9.]+$/, '');
    if (stem !== '') words.add(`${stem}*`);
    if (stem !== item) words.add(item);
  }
  return [...words];
}

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * The regex of a word rule: the word between dashes or the ends; `alpine*` takes any version after the word;
 * `=3.13` is a version prefix of the tag's leading version.
 */
export function wordPattern(word) {
  if (word.startsWith('=')) return `^${escapeRegExp(word.slice(1))}([._u+-]|$)`;
  return word.endsWith('*') ? `(^|-)${escapeRegExp(word.slice(0, -1))}[0-9.]*(-|$)` : `(^|-)${escapeRegExp(word)}(-|$)`;
}

function entryIsWindows(entry) {
  return entry.os === 'windows' || (entry.constraints ?? []).some((c) => WINDOWS_CONSTRAINT.test(c));
}

/** The source of an entry's facts: its Dockerfile, at the line of the fact that matters most. */
function entrySource(entry, line) {
  const s = entry.source;
  const out = { repo: s.repo, path: s.path, commit: s.commit };
  if (line) out.line = line;
  return out;
}

/**
 * Index of an image's tags: tag -> entry. A shared tag carried by several entries (Linux and Windows variants of
 * one version) is the Linux entry's: that is what a Linux daemon pulls.
 */
function tagIndex(image) {
  const index = new Map();
  const shared = new Map();
  for (const entry of image.entries) {
    for (const t of entry.tags) if (!index.has(t)) index.set(t, entry);
    for (const t of entry.sharedTags ?? []) {
      if (!shared.has(t)) shared.set(t, []);
      shared.get(t).push(entry);
    }
  }
  for (const [t, carriers] of shared) {
    if (index.has(t)) continue;
    const withFacts = carriers.filter((e) => e.facts);
    const linux = withFacts.filter((e) => !entryIsWindows(e));
    index.set(t, linux[0] ?? withFacts[0] ?? carriers[0]);
  }
  return index;
}

/** The user written in USER (`name`, `uid`, `name:group`) as the schema records it; null for root. */
function userOf(value, users) {
  const u = value.split(':')[0];
  if (u === '' || u === 'root' || u === '0') return null;
  if (/^\d+$/.test(u)) return { user: { uid: Number(u) } };
  const known = users.get(u);
  const user = { name: u };
  if (known?.uid !== undefined) user.uid = known.uid;
  return { user, home: known?.home };
}

/**
 * `roots`: the hand-written catalogs FROM lines resolve down to, in lookup order (distributions.json, then the
 * vendors' files; a single document is taken as a list of one). Official images that distributions.json names
 * are roots themselves and get no row here.
 */
export function build(evidence, roots) {
  const warnings = [];
  const documents = Array.isArray(roots) ? roots : [roots];
  const dist = documents.flatMap((d) => d.rows ?? []);
  const images = evidence.images;
  const rootNames = new Set((documents[0].rows ?? []).flatMap((r) => r.match.filter((m) => !m.endsWith('/'))));
  const indexes = new Map(Object.entries(images).map(([name, image]) => [name, tagIndex(image)]));
  const entryMemo = new Map();
  const rowMemo = new Map();
  const inProgress = new Set();

  /** Facts of a root from the hand-written rows, as a resolution. */
  function fromDistributions(repository, tag, ref) {
    const found = lookup(dist, repository, tag || 'latest');
    if (!found) return undefined;
    const facts = particulars(found.facts);
    // a root's own user (ubuntu 1000): known by name, so that a Dockerfile can remove it
    const users = new Map();
    if (facts.takenNames?.length === 1 && facts.takenUids?.length === 1) users.set(facts.takenNames[0], { uid: facts.takenUids[0] });
    return { facts, users, chain: [ref], root: { repository, source: found.source } };
  }

  /** Facts of the image a FROM names. */
  function resolveRef(ref, stack) {
    const { repository, tag } = parseReference(ref);
    if (WINDOWS_BASE.test(repository)) return { facts: { kind: 'windows' }, users: new Map(), chain: [ref] };
    const distRow = findRow(dist, repository);
    const exactRoot = distRow && distRow.match.includes(repository);
    if (exactRoot || (distRow && !images[repository])) return fromDistributions(repository, tag, ref);
    if (images[repository] && !rootNames.has(repository)) {
      const entry = indexes.get(repository).get(tag || 'latest');
      if (entry?.facts) {
        const r = resolveEntry(repository, entry, stack);
        return { ...r, chain: [ref, ...r.chain.slice(1)] };
      }
      // a tag the evidence does not hold (or holds without facts): the image's own row decides, as peak-fix would
      const row = rowOf(repository, stack);
      if (row) {
        const rule = matchingRule(row, tag || 'latest');
        const facts = particulars(rule ?? row);
        return { facts, users: new Map(), chain: [ref, `(${repository} row${rule ? ` rule ${rule.tag}` : ''})`], viaRow: true };
      }
    }
    return {
      facts: { kind: 'unknown' },
      users: new Map(),
      chain: [ref],
      unresolved: `${ref} is neither an official image with facts nor a hand-written row`,
    };
  }

  /** Facts of one entry with facts. */
  function resolveEntry(name, entry, stack = []) {
    if (entryMemo.has(entry)) return entryMemo.get(entry);
    if (stack.includes(entry)) {
      return { facts: { kind: 'unknown' }, users: new Map(), chain: ['(cycle)'], unresolved: `FROM cycle through ${name}` };
    }
    const next = [...stack, entry];
    const f = entry.facts;
    const self = `${name}:${entry.tags[0] ?? entry.sharedTags?.[0]}`;
    let result;
    if (entryIsWindows(entry) || (f.from && WINDOWS_BASE.test(parseReference(f.from.image).repository))) {
      result = { facts: { kind: 'windows' }, users: new Map(), chain: [self], line: f.from?.line };
    } else {
      let base;
      if (!f.from || f.from.unresolved) {
        base = {
          facts: { kind: 'unknown' },
          users: new Map(),
          chain: [f.from?.image ?? '?'],
          unresolved: `FROM ${f.from?.image} has a variable without default`,
        };
      } else if (f.from.image.toLowerCase() === 'scratch') {
        if (f.scratch?.rootfs === false && f.scratch.shell === false) {
          base = { facts: { kind: 'distroless', packageManager: 'none' }, users: new Map(), chain: ['scratch'] };
        } else {
          base = {
            facts: { kind: 'unknown' },
            users: new Map(),
            chain: ['scratch'],
            unresolved: `${self} adds its own root filesystem, and distributions.json has no row for ${name}`,
          };
        }
      } else {
        base = resolveRef(f.from.image, next);
      }
      result = combine(base, f, self);
      if (base.unresolved) result.unresolved = base.unresolved;
      checkContradictions(name, entry, base, result);
    }
    entryMemo.set(entry, result);
    return result;
  }

  function combine(base, f, self) {
    const facts = { ...base.facts };
    const users = new Map(base.users);
    const installs = new Set((f.installs ?? []).map((i) => i.package));
    // installing shadow-utils brings useradd: a minimal or unknown RPM base becomes rhel (apk's shadow on alpine
    // keeps busybox's adduser too: alpine stays alpine)
    const shadow = installs.has('shadow-utils') || (installs.has('shadow') && !(f.packageManagers ?? []).some((p) => p.name === 'apk'));
    if (shadow && (facts.kind === 'rhel-minimal' || facts.kind === 'unknown')) facts.kind = 'rhel';
    if (installs.has('findutils')) facts.find = true;
    if (facts.find !== undefined && facts.find === KIND_FIND[facts.kind]) delete facts.find;
    const uids = new Set(base.facts.takenUids ?? []);
    const names = new Set(base.facts.takenNames ?? []);
    // users created and removed, in the order of the Dockerfile (mariadb: useradd mysql && userdel --remove ubuntu)
    for (const u of f.users ?? []) {
      if (!u.removed) {
        users.set(u.name, { uid: u.uid ?? users.get(u.name)?.uid, home: u.home ?? users.get(u.name)?.home });
        if (u.uid !== undefined) uids.add(u.uid);
        names.add(u.name);
        continue;
      }
      if (!names.has(u.name)) continue;
      const uid = users.get(u.name)?.uid;
      users.delete(u.name);
      names.delete(u.name);
      if (uid !== undefined && ![...users.values()].some((o) => o.uid === uid)) uids.delete(uid);
    }
    if (uids.size > 0) facts.takenUids = [...uids].sort((a, b) => a - b);
    else delete facts.takenUids;
    if (names.size > 0) facts.takenNames = [...names].sort(compare);
    else delete facts.takenNames;
    let line = f.from?.line;
    if (f.user) {
      delete facts.user;
      delete facts.home;
      if (f.user.unresolved) {
        facts.userUnresolved = f.user.value;
      } else {
        const u = userOf(f.user.value, users);
        if (u) {
          facts.user = u.user;
          if (u.home) facts.home = u.home;
        }
      }
      line = f.user.line;
    } else if (f.users?.some((u) => !u.removed)) {
      line = f.users.find((u) => !u.removed).line;
    }
    if (!facts.packageManager && f.packageManagers?.length) facts.packageManager = f.packageManagers[0].name;
    return { facts, users, chain: [self, ...base.chain], line };
  }

  function checkContradictions(name, entry, base, result) {
    const creates = (entry.facts.users ?? []).filter((u) => !u.removed).map((u) => u.via);
    const kind = base.facts.kind;
    const tag = entry.tags[0] ?? entry.sharedTags?.[0];
    const installs = new Set((entry.facts.installs ?? []).map((i) => i.package));
    if (
      creates.includes('useradd') &&
      (kind === 'rhel-minimal' || kind === 'alpine') &&
      !installs.has('shadow-utils') &&
      !installs.has('shadow')
    ) {
      warnings.push(
        `contradiction: ${name}:${tag} runs useradd (${entry.source.path}:${entry.facts.users.find((u) => u.via === 'useradd').line}) on ${result.chain.slice(1).join(' -> ')}, of kind ${kind}`,
      );
    }
    if ((entry.facts.packageManagers ?? []).length > 0 && base.facts.packageManager && base.facts.packageManager !== 'none') {
      const used = entry.facts.packageManagers.map((p) => p.name);
      const expected = base.facts.packageManager;
      const family = {
        dnf: ['dnf', 'yum', 'microdnf'],
        yum: ['yum', 'dnf'],
        microdnf: ['microdnf'],
        apt: ['apt'],
        apk: ['apk'],
        tdnf: ['tdnf'],
        zypper: ['zypper'],
        pacman: ['pacman'],
        swupd: ['swupd'],
      };
      if (!used.some((u) => (family[expected] ?? [expected]).includes(u))) {
        warnings.push(
          `note: ${name}:${tag} uses ${used.join(', ')} on ${result.chain.slice(1).join(' -> ')}, whose package manager is ${expected}`,
        );
      }
    }
  }

  /** Resolved facts of every tag of an image (entries with facts only). */
  function tagFacts(name) {
    const out = new Map();
    for (const [tag, entry] of indexes.get(name)) {
      if (!entry.facts) continue;
      const r = resolveEntry(name, entry);
      out.set(tag, { entry, resolution: r, facts: publicFacts(r.facts) });
    }
    return out;
  }

  function publicFacts(facts) {
    const out = { ...facts };
    delete out.userUnresolved;
    return out;
  }

  /** The row of a (non-root) official image, or null when none of its entries has facts. */
  function rowOf(name, stack = []) {
    if (rowMemo.has(name)) return rowMemo.get(name);
    if (inProgress.has(name)) return null;
    inProgress.add(name);
    const row = makeRow(name, stack);
    inProgress.delete(name);
    rowMemo.set(name, row);
    return row;
  }

  function makeRow(name) {
    // tags are matched lower-cased, as peak-fix reads them
    const tags = new Map([...tagFacts(name)].map(([tag, t]) => [tag.toLowerCase(), t]));
    if (tags.size === 0) return null;
    const entryOrder = new Map(images[name].entries.map((e, k) => [e, k]));
    // default: today's latest entry, else the most common facts among today's entries (by entries; all entries
    // when none of today's has facts), the first entry breaking ties. A latest tag only older files had (openjdk,
    // elasticsearch) is a tag like the others: today's entries predict the tags the evidence does not hold.
    let defaultTag = tags.has('latest') && !tags.get('latest').entry.library ? 'latest' : null;
    if (!defaultTag) {
      const counts = new Map();
      const seenEntries = new Set();
      const todays = [...tags].filter(([, t]) => !t.entry.library);
      for (const [tag, t] of (todays.length > 0 ? todays : [...tags]).sort(
        (a, b) => entryOrder.get(a[1].entry) - entryOrder.get(b[1].entry) || compare(a[0], b[0]),
      )) {
        if (seenEntries.has(t.entry)) continue;
        seenEntries.add(t.entry);
        const key = factsKey(t.facts);
        const c = counts.get(key) ?? { n: 0, tag };
        c.n++;
        counts.set(key, c);
      }
      defaultTag = [...counts.values()].sort((a, b) => b.n - a.n)[0].tag;
    }
    const def = tags.get(defaultTag);
    const defKey = factsKey(def.facts);

    // word rules, most specific word first (fewest tags): a word whose tags not taken by an earlier rule all have
    // the same facts, when they differ from the default, gets a rule that takes them
    const carriers = new Map();
    for (const [tag, t] of tags) {
      for (const w of tagWords(tag)) {
        if (!carriers.has(w)) carriers.set(w, []);
        carriers.get(w).push([tag, t]);
      }
    }
    // Passes until nothing changes: a word blocked by tags a later, wider word takes (9.0.56 by 9.0.56-corretto)
    // gets its rule in the next pass, after that word's. A rule takes exactly the tags its regex matches that no
    // earlier rule matched, so the list stays right whatever the order. When no word is left whose tags agree, the
    // most specific word whose tags mostly agree (three to one at least) gets its rule, its few other tags a rule
    // of their own (placed first), and the passes go on.
    const candidates = [...carriers].sort((a, b) => a[1].length - b[1].length || compare(a[0], b[0]));
    const taken = new Set();
    const done = new Set();
    const wordRules = [];
    const exceptions = [];
    const emit = (word, open) => {
      const sourceEntry = open.map(([, t]) => t).sort((a, b) => entryOrder.get(a.entry) - entryOrder.get(b.entry))[0];
      wordRules.push(ruleFor(wordPattern(word), sourceEntry));
      for (const [tag] of open) taken.add(tag);
      done.add(word);
    };
    const groupsOf = (open) => {
      const groups = new Map();
      for (const item of open) {
        const key = factsKey(item[1].facts);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(item);
      }
      return [...groups.entries()].sort((a, b) => b[1].length - a[1].length || compare(a[0], b[0]));
    };
    for (;;) {
      for (let changed = true; changed;) {
        changed = false;
        for (const [word, list] of candidates) {
          if (done.has(word)) continue;
          const open = list.filter(([tag]) => !taken.has(tag));
          if (open.length === 0) {
            done.add(word);
            continue;
          }
          const groups = groupsOf(open);
          if (groups.length !== 1 || groups[0][0] === defKey) continue;
          emit(word, open);
          changed = true;
        }
      }
      let split = null;
      for (const [word, list] of candidates) {
        if (done.has(word)) continue;
        const open = list.filter(([tag]) => !taken.has(tag));
        const groups = groupsOf(open);
        if (groups.length < 2 || groups[0][0] === defKey) continue;
        const others = open.length - groups[0][1].length;
        if (groups[0][1].length >= 3 * others) {
          split = { word, groups };
          break;
        }
      }
      if (!split) break;
      for (const [, items] of split.groups.slice(1)) {
        for (const item of items) {
          exceptions.push(item);
          taken.add(item[0]);
        }
      }
      emit(split.word, split.groups[0][1]);
    }
    const exceptionRules = exceptions.sort((a, b) => compare(a[0], b[0])).map(([tag, t]) => ruleFor(`^${escapeRegExp(tag)}$`, t));
    // tags the word rules and the default do not give right: a rule of their own
    const exact = [];
    const wordRegexps = wordRules.map((r) => [new RegExp(r.tag), factsKey(particulars(r))]);
    const excepted = new Set(exceptions.map(([tag]) => tag));
    for (const [tag, t] of [...tags].sort((a, b) => compare(a[0], b[0]))) {
      if (excepted.has(tag)) continue;
      const rule = wordRegexps.find(([re]) => re.test(tag));
      const got = rule ? rule[1] : defKey;
      if (got !== factsKey(t.facts)) exact.push(ruleFor(`^${escapeRegExp(tag)}$`, t));
    }
    const row = { match: [name], ...particularsOut(def.facts), source: entrySource(def.entry, def.resolution.line) };
    const note = noteOf(def.resolution, name);
    if (note) row.note = note;
    const all = [...[...exceptionRules, ...exact].sort((a, b) => compare(a.tag, b.tag)), ...wordRules];
    if (all.length > 0) row.tags = all;
    return row;
  }

  function ruleFor(pattern, t) {
    const rule = { tag: pattern, ...particularsOut(t.facts), source: entrySource(t.entry, t.resolution.line) };
    const note = noteOf(t.resolution);
    if (note) rule.note = note;
    return rule;
  }

  function particularsOut(facts) {
    const out = {};
    for (const [k, v] of Object.entries(particulars(facts))) {
      if (Array.isArray(v) && v.length === 0) continue;
      out[k] = v;
    }
    return out;
  }

  function noteOf(resolution) {
    const parts = [];
    const chain = resolution.chain.slice(1).filter((c) => !c.startsWith('('));
    if (chain.length > 0) parts.push(`FROM ${chain.join(' -> ')}`);
    if (resolution.viaRow) parts.push('a tag of the base taken from its row');
    if (resolution.unresolved) parts.push(`kind unknown: ${resolution.unresolved}`);
    if (resolution.facts.userUnresolved) parts.push(`USER ${resolution.facts.userUnresolved} could not be resolved`);
    return parts.join('; ');
  }

  const rows = [];
  const resolved = {};
  const skipped = [];
  for (const name of Object.keys(images).sort(compare)) {
    if (rootNames.has(name)) continue; // distributions.json describes it
    const row = rowOf(name);
    if (!row) {
      skipped.push(`${name}: no entry with facts (${[...new Set(images[name].entries.map((e) => e.unavailable))].slice(0, 2).join('; ')})`);
      continue;
    }
    resolved[name] = new Map([...tagFacts(name)].map(([tag, t]) => [tag.toLowerCase(), t.facts]));
    rows.push(row);
  }
  for (const s of skipped) warnings.push(`no row: ${s}`);
  for (const [entry, r] of entryMemo) {
    if (r.facts.userUnresolved) warnings.push(`unresolved USER ${r.facts.userUnresolved} in ${entry.source.repo}/${entry.source.path}`);
  }

  const catalog = {
    $schema: '../catalog.schema.json',
    description:
      "Docker official images, generated from their Dockerfiles by scripts/catalog/update.js (do not edit by hand: run npm run catalog:update). Each row is the image tagged latest; tag rules give the tags whose facts differ. Roots come from distributions.json and the vendors' files.",
    generated: {
      by: 'node scripts/catalog/update.js --from-evidence',
      at: evidence.extractedAt,
      from: [{ repo: evidence.officialImages.repo, path: 'library', commit: evidence.officialImages.commit }],
    },
    rows,
  };
  return { catalog, warnings, resolved };
}
