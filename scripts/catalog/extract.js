/**
 * Extract phase: docker-library/official-images `library/*` (today's files and the retired ones) and, for each
 * entry, the facts of the Dockerfile at its GitCommit in the fetched copy of its GitRepo. Writes facts with their
 * source (repository, path, commit, line), never the Dockerfile text.
 */
import { dockerfileFacts } from './dockerfile.js';
import { existingObjects, git, readObjects, repoDir } from './git.js';
import { dockerfilePath, githubRepo, parseLibrary } from './library.js';

const OFFICIAL_IMAGES = 'docker-library/official-images';
/** GitHub repositories renamed since a library file named them (github.com redirects the old name). */
const RENAMED = {
  'jenkinsci/jenkins-ci.org-docker': 'jenkinsci/docker',
  'docker/swarm-library-image': 'docker-archive/swarm-library-image',
  'nginxinc/docker-nginx': 'nginx/docker-nginx',
};
/** Versions of one library file looked at, newest first, when searching one whose commits are all in the snapshots. */
const MAX_VERSIONS_SCANNED = 400;

function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Library file names (without `library/`): today's, and the deleted ones with the last commit that had them. */
function libraryNames(oi) {
  const current = git(oi, ['ls-tree', '--name-only', 'HEAD', 'library/'])
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice('library/'.length));
  const deleted = [
    ...new Set(
      git(oi, ['log', '--diff-filter=D', '--name-only', '--format=', 'HEAD', '--', 'library/'])
        .split('\n')
        .filter((p) => p.startsWith('library/'))
        .map((p) => p.slice('library/'.length)),
    ),
  ].filter((n) => !current.includes(n) && /^[a-z0-9][a-z0-9._-]*$/.test(n));
  return { current, deleted };
}

/** The commits that changed library/<name>, newest first, with their date. */
function versionsOf(oi, name) {
  return git(oi, ['log', '--format=%H %ct %cs', 'HEAD', '--', `library/${name}`])
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [commit, time, date] = l.split(' ');
      return { commit, time: Number(time), date };
    });
}

/** Status of an entry's Dockerfile: ok, or why it cannot be read. */
function locate(entry, reposDir, dirCache) {
  const where = { gitRepo: entry.gitRepo, commit: entry.gitCommit, path: dockerfilePath(entry) };
  if (entry.builder === 'oci-import' || !/(^|\/)([^/]*Dockerfile[^/]*|Containerfile)$/i.test(where.path) || /\.json$/.test(where.path)) {
    return {
      ...where,
      status: 'no-dockerfile',
      reason: `built by ${entry.builder || 'another builder'} from ${where.path}, not a Dockerfile`,
    };
  }
  let repo = githubRepo(entry.gitRepo);
  if (!repo) return { ...where, status: 'not-github', reason: `GitRepo ${entry.gitRepo} is not on GitHub` };
  let dir = repoDir(reposDir, repo, dirCache);
  if (!dir && RENAMED[repo.toLowerCase()]) {
    // GitHub redirects the old name; the history is the same repository's
    dir = repoDir(reposDir, RENAMED[repo.toLowerCase()], dirCache);
    if (dir) repo = RENAMED[repo.toLowerCase()];
  }
  if (!dir) return { ...where, repo, status: 'no-repo', reason: `${repo} was not fetched (no snapshot under the repos directory)` };
  return { ...where, repo, dir, status: 'pending' };
}

/** Marks located entries ok or missing, one cat-file per repository. */
function checkPresence(located) {
  const byDir = new Map();
  for (const l of located)
    if (l.status === 'pending' || l.status === 'ok' || l.status === 'missing') {
      if (!byDir.has(l.dir)) byDir.set(l.dir, []);
      byDir.get(l.dir).push(l);
    }
  for (const [dir, list] of byDir) {
    const pending = list.filter((l) => l.status === 'pending');
    if (pending.length === 0) continue;
    const found = existingObjects(
      dir,
      pending.map((l) => `${l.commit}:${l.path}`),
    );
    for (const l of pending) {
      if (found.has(`${l.commit}:${l.path}`)) l.status = 'ok';
      else {
        l.status = 'missing';
        l.reason = `commit ${l.commit} (or ${l.path} in it) is not in the snapshot of ${l.repo}`;
      }
    }
  }
}

/**
 * Runs the extract phase. Each image's library file is read at its newest version whose Dockerfiles the snapshots
 * hold (the entries of a version that names a commit a snapshot lacks are recorded without facts when no such
 * version exists). `historyYears` (`retiredHistoryYears` for retired images): the file as it was on 1 January of
 * each of that many years before also adds the tags it had that later versions dropped.
 */
export function extract({
  officialImages,
  repos,
  historyYears = 0,
  retiredHistoryYears = historyYears,
  today = new Date().toISOString().slice(0, 10),
  only,
}) {
  const started = Date.now();
  const oi = officialImages;
  const head = git(oi, ['rev-parse', 'HEAD']).trim();
  const headDate = git(oi, ['log', '-1', '--format=%cs', 'HEAD']).trim();
  const dirCache = new Map();
  const { current, deleted } = libraryNames(oi);
  const names = [...current.map((n) => ({ name: n, retired: false })), ...deleted.map((n) => ({ name: n, retired: true }))]
    .filter((n) => !only || only.includes(n.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const presence = new Map(); // `${dir} ${commit}:${path}` -> located, shared between versions
  const images = {};
  const toRead = [];

  for (const { name, retired } of names) {
    const versions = versionsOf(oi, name);
    if (versions.length === 0) continue; // only ever on a side branch
    const texts = new Map();
    const entriesAt = (v) => {
      if (!texts.has(v.commit)) {
        const objects = readObjects(oi, [`${v.commit}:library/${name}`]);
        const text = objects.get(`${v.commit}:library/${name}`);
        texts.set(v.commit, text === undefined ? [] : parseLibrary(text));
      }
      return texts.get(v.commit);
    };
    const locatedOf = (entries) =>
      entries.map((e) => {
        const l = locate(e, repos, dirCache);
        if (l.status !== 'pending') return l;
        const key = `${l.dir} ${l.commit}:${l.path}`;
        if (!presence.has(key)) presence.set(key, l);
        return presence.get(key);
      });

    // today's version: the newest with entries whose Dockerfiles the snapshots all hold
    let primary = null;
    let best = null;
    let firstWithEntries = null;
    let scanned = 0;
    for (const v of versions) {
      const entries = entriesAt(v);
      if (entries.length === 0) continue;
      firstWithEntries ??= v;
      const located = locatedOf(entries);
      checkPresence(located);
      const considered = located.filter((l) => l.status === 'ok' || l.status === 'missing');
      if (considered.length === 0) {
        // no Dockerfile of this version can be had at all (not on GitHub, not fetched, not a Dockerfile): today's
        // version is the newest one, unless a newer version was partly readable
        if (v === firstWithEntries) {
          primary = v;
          break;
        }
        continue;
      }
      const ok = considered.filter((l) => l.status === 'ok').length;
      if (ok === considered.length) {
        primary = v;
        break;
      }
      if (!best || ok / considered.length > best.score) best = { v, score: ok / considered.length };
      if (++scanned >= MAX_VERSIONS_SCANNED) break;
    }
    primary ??= best?.v ?? firstWithEntries;
    if (!primary) {
      log(`${name}: no version of library/${name} has entries; skipped`);
      continue;
    }
    const newer = versions.findIndex((v) => v.commit === primary.commit);
    const skippedNewer = versions.slice(0, newer).filter((v) => entriesAt(v).length > 0).length;
    if (skippedNewer > 0) {
      log(
        `${name}: using library/${name} at ${primary.commit.slice(0, 12)} (${primary.date}); ${skippedNewer} newer version(s) name commits the snapshots do not hold`,
      );
    }

    // History: the file as it was on 1 January of the years before adds the tags later versions dropped, which
    // fleets still pull (python:3.7-slim-buster, mysql:5.7). Retired images (deleted, emptied, or without a
    // `latest` tag any more, as openjdk since its deprecation) get their own number of years.
    const hasLatest = entriesAt(primary).some((e) => e.tags.includes('latest') || e.sharedTags.includes('latest'));
    const emptied = !retired && entriesAt(versions[0]).length === 0;
    const status = retired ? 'retired' : emptied ? 'emptied' : hasLatest ? 'current' : 'no-latest';
    const points = [primary];
    const primaryYear = Number(primary.date.slice(0, 4));
    const years = status === 'current' ? historyYears : retiredHistoryYears;
    for (let y = primaryYear; y > primaryYear - years; y--) {
      const cut = Date.UTC(y, 0, 1) / 1000;
      const v = versions.find((x) => x.time < cut && x.time < primary.time);
      if (v && !points.some((p) => p.commit === v.commit) && entriesAt(v).length > 0) points.push(v);
    }

    const claimed = new Set();
    const records = new Map();
    for (const v of points) {
      const entries = entriesAt(v);
      const located = locatedOf(entries);
      checkPresence(located);
      const fresh = new Set();
      for (const e of entries) for (const t of [...e.tags, ...e.sharedTags]) if (!claimed.has(t)) fresh.add(t);
      entries.forEach((e, k) => {
        const tags = e.tags.filter((t) => fresh.has(t));
        const sharedTags = e.sharedTags.filter((t) => fresh.has(t));
        if (tags.length + sharedTags.length === 0) return;
        const l = located[k];
        const key = `${e.gitRepo} ${e.gitCommit} ${l.path} ${e.arch}`;
        let record = records.get(key);
        if (!record) {
          record = { entry: e, located: l, library: v, tags: [], sharedTags: [] };
          records.set(key, record);
        }
        for (const t of tags) if (!record.tags.includes(t)) record.tags.push(t);
        for (const t of sharedTags) if (!record.sharedTags.includes(t)) record.sharedTags.push(t);
      });
      for (const t of fresh) claimed.add(t);
    }

    const image = {
      status,
      library: { repo: OFFICIAL_IMAGES, path: `library/${name}`, commit: primary.commit, date: primary.date },
      entries: [],
    };
    if (skippedNewer > 0) image.newerVersionsSkipped = skippedNewer;
    if (points.length > 1) image.history = points.slice(1).map((p) => ({ commit: p.commit, date: p.date }));
    for (const record of records.values()) {
      const { entry: e, located: l } = record;
      const out = { tags: record.tags };
      if (record.sharedTags.length > 0) out.sharedTags = record.sharedTags;
      if (e.constraints.length > 0) out.constraints = e.constraints;
      if (e.arch.startsWith('windows-')) out.os = 'windows';
      if (record.library !== primary) out.library = { commit: record.library.commit, date: record.library.date };
      out.source = l.repo ? { repo: l.repo, path: l.path, commit: l.commit } : { gitRepo: e.gitRepo, path: l.path, commit: l.commit };
      if (e.builder) out.builder = e.builder;
      if (l.status !== 'ok') {
        out.unavailable = l.reason;
        if (l.status === 'missing' || l.status === 'no-repo')
          log(`${name}: ${record.tags[0] ?? record.sharedTags[0]}: ${l.reason}; recorded without facts`);
      } else {
        toRead.push({ out, located: l });
      }
      image.entries.push(out);
    }
    images[name] = image;
  }

  // read and parse the Dockerfiles, one cat-file per repository
  const byDir = new Map();
  for (const item of toRead) {
    if (!byDir.has(item.located.dir)) byDir.set(item.located.dir, []);
    byDir.get(item.located.dir).push(item);
  }
  const parsed = new Map();
  for (const [dir, items] of byDir) {
    const texts = readObjects(
      dir,
      items.map((i) => `${i.located.commit}:${i.located.path}`),
    );
    for (const item of items) {
      const name = `${item.located.commit}:${item.located.path}`;
      const key = `${dir} ${name}`;
      if (!parsed.has(key)) {
        const text = texts.get(name);
        let facts;
        try {
          facts = text === undefined ? { error: 'not readable' } : dockerfileFacts(text);
        } catch (err) {
          facts = { error: `not parsed: ${err.message}` };
        }
        parsed.set(key, facts);
      }
      const facts = parsed.get(key);
      if (facts.error) item.out.unavailable = `${item.located.path} at ${item.located.commit}: ${facts.error}`;
      else item.out.facts = facts;
    }
  }

  const counts = { images: 0, entries: 0, withFacts: 0, tags: 0 };
  for (const image of Object.values(images)) {
    counts.images++;
    for (const e of image.entries) {
      counts.entries++;
      if (e.facts) counts.withFacts++;
      counts.tags += e.tags.length + (e.sharedTags?.length ?? 0);
    }
  }
  log(
    `extract: ${counts.images} images, ${counts.entries} entries (${counts.withFacts} with facts), ${counts.tags} tags in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return {
    description:
      'Facts read from the Dockerfiles of the Docker official images (docker-library/official-images library/*), each with the file, commit and line it was read from. Recorded by scripts/catalog/update.js; the build phase turns it into src/facts/catalog/official-images.json.',
    extractedAt: today,
    officialImages: { repo: OFFICIAL_IMAGES, commit: head, date: headDate },
    historyYears,
    retiredHistoryYears,
    images,
  };
}
