/**
 * Reads docker-library/official-images `library/<name>` files.
 *
 * Two formats: the RFC 2822-like one bashbrew reads since 2016 (paragraphs of `Field: value`, the first one global,
 * continuation lines indented, `<arch>-GitCommit` and the like per architecture), and the older one-line-per-tag
 * form (`tag: git://github.com/owner/name@commit [directory]`).
 */

const LIST_FIELDS = new Set(['tags', 'sharedtags', 'architectures', 'constraints']);

/** Splits `a, b,c` into its items. */
function list(value) {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** Paragraphs of fields (lower-cased names), comments dropped, continuation lines joined. */
function paragraphs(text) {
  const out = [];
  let current = null;
  let last = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) continue;
    if (line.trim() === '') {
      if (current) out.push(current);
      current = null;
      last = null;
      continue;
    }
    if (/^\s/.test(line) && current && last) {
      current[last] += (LIST_FIELDS.has(last) ? ', ' : ' ') + line.trim();
      continue;
    }
    const m = /^([A-Za-z0-9_.-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    current ??= {};
    last = m[1].toLowerCase();
    current[last] = m[2].trim();
  }
  if (current) out.push(current);
  return out;
}

/** The GitHub owner/name of a git URL, or undefined for other hosts. */
export function githubRepo(url) {
  const m = /^(?:https?|git):\/\/(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The value of a field as bashbrew reads it for one architecture: `<arch>-Field`, else `Field`. */
function archValue(fields, arch, name) {
  return fields[`${arch}-${name}`] ?? fields[name];
}

/**
 * The entries of a library file: tags, shared tags, architectures, constraints, builder, and where the Dockerfile
 * of the architecture read is (gitRepo, gitFetch, gitCommit, directory, file). The architecture read is amd64 when
 * the entry has it (windows-amd64 for Windows entries), else the first listed.
 */
export function parseLibrary(text) {
  const isOld = !/^\s*(Tags|GitRepo|Maintainers)\s*:/im.test(text) && /^[A-Za-z0-9._-]+:\s*(?:git|https?):\/\//m.test(text);
  return isOld ? parseOldFormat(text) : parseRfc2822(text);
}

function parseRfc2822(text) {
  const paras = paragraphs(text);
  if (paras.length === 0) return [];
  const global = paras[0].tags ? {} : paras[0];
  const entries = [];
  for (const para of paras[0].tags ? paras : paras.slice(1)) {
    if (!para.tags) continue;
    const fields = { ...global, ...para };
    const architectures = list(fields.architectures ?? 'amd64');
    const arch = architectures.includes('amd64') ? 'amd64' : architectures.includes('windows-amd64') ? 'windows-amd64' : architectures[0];
    const entry = {
      tags: list(fields.tags),
      sharedTags: list(fields.sharedtags ?? ''),
      architectures,
      constraints: list(fields.constraints ?? ''),
      builder: fields.builder ?? '',
      arch,
      gitRepo: archValue(fields, arch, 'gitrepo') ?? '',
      gitFetch: archValue(fields, arch, 'gitfetch') ?? '',
      gitCommit: archValue(fields, arch, 'gitcommit') ?? '',
      directory: archValue(fields, arch, 'directory') ?? '.',
      file: archValue(fields, arch, 'file') ?? 'Dockerfile',
    };
    entries.push(entry);
  }
  return entries;
}

function parseOldFormat(text) {
  const byLocation = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9._-]+):\s*(\S+)@([0-9a-fA-F]{7,40})(?:\s+(\S+))?\s*$/.exec(line);
    if (!m) continue;
    const [, tag, gitRepo, gitCommit, directory = '.'] = m;
    const key = `${gitRepo}@${gitCommit} ${directory}`;
    let entry = byLocation.get(key);
    if (!entry) {
      entry = {
        tags: [],
        sharedTags: [],
        architectures: ['amd64'],
        constraints: [],
        builder: '',
        arch: 'amd64',
        gitRepo,
        gitFetch: '',
        gitCommit,
        directory,
        file: 'Dockerfile',
      };
      byLocation.set(key, entry);
    }
    entry.tags.push(tag);
  }
  return [...byLocation.values()];
}

/** The path of an entry's Dockerfile inside its repository. */
export function dockerfilePath(entry) {
  const dir = entry.directory.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return dir === '' || dir === '.' ? entry.file : `${dir}/${entry.file}`;
}
