import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { classifyPath, normaliseAbsolute } from '../src/model/dirs.js';
import { chownFlag } from '../src/model/dockerfile.js';
import { chownFlagValue } from '../src/recipe.js';
import { finding, type Transform } from '../src/transform.js';
import type { Finding } from '../src/types.js';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$/i;

/** ADD extracts local tar archives (not URLs): --chown does not reach what it extracts. */
function addsLocalArchive(add: Instruction): boolean {
  const sources = add
    .getArguments()
    .slice(0, -1)
    .map((a) => a.getValue());
  return sources.some((source) => !/^[a-z]+:\/\//i.test(source) && ARCHIVE.test(source));
}

interface Flagged {
  getFlags(): { getName(): string; getValue(): string | null }[];
}

function flag(i: Instruction, name: string): { getValue(): string | null } | undefined {
  return (i as unknown as Flagged).getFlags().find((f) => f.getName().toLowerCase() === name);
}

function nextWorkdir(current: string | null, workdir: Instruction): string | null {
  const value = (workdir.getArguments()[0]?.getValue() ?? '').replace(/^["']|["']$/g, '');
  if (value.includes('$')) return null;
  if (value.startsWith('/')) return normaliseAbsolute(value);
  return current === null ? null : normaliseAbsolute(`${current}/${value}`);
}

/**
 * Where a COPY/ADD puts its files, when it can be known: the last argument (plain or JSON form), against the
 * WORKDIR in force. `rootFilesystem`: a directory, or another stage's output, copied onto `/` itself.
 */
function destination(i: Instruction, workdir: string | null): { path: string; rootFilesystem: boolean } | null {
  const args = i.getArguments().map((a) => a.getValue());
  let words = args;
  const joined = args.join(' ').trim();
  if (joined.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(joined);
      if (Array.isArray(parsed)) words = parsed.map(String);
    } catch {
      // Docker reads it as the plain form too.
    }
  }
  if (words.length < 2) return null;
  const raw = words[words.length - 1].replace(/^["']|["']$/g, '');
  if (raw.includes('$')) return null;
  const path = raw.startsWith('/') ? normaliseAbsolute(raw) : workdir === null ? null : normaliseAbsolute(`${workdir}/${raw}`);
  if (path === null) return null;
  const sources = words.slice(0, -1);
  const rootFilesystem = path === '/' && (flag(i, 'from') !== undefined || sources.some((s) => s === '.' || s.endsWith('/')));
  return { path, rootFilesystem };
}

export const copyChown: Transform = {
  id: 'copy-chown',
  summary: 'Adds --chown to every COPY and ADD that runs once the user exists, so the user owns what is copied.',
  apply({ model, options, plan }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const value = chownFlagValue(options, plan.base.facts);
    const numeric = `$${options.uidArg}:$${options.uidArg}`;
    let workdir: string | null = null;
    plan.stage.instructions.forEach((i, index) => {
      const keyword = i.getKeyword();
      if (keyword === 'WORKDIR') workdir = nextWorkdir(workdir, i);
      if (keyword !== 'COPY' && keyword !== 'ADD') return;
      const existing = chownFlag(i);
      const willOwn = existing !== undefined || index >= plan.userReadyIndex;
      if (keyword === 'ADD' && willOwn && addsLocalArchive(i)) {
        findings.push(
          finding(
            'add-archive-chown',
            i,
            'ADD unpacks this local archive and ignores --chown for the extracted files, which stay owned by root',
            `add RUN chown -R ${options.user}:${options.user} <destination> after it if the user must write there`,
          ),
        );
      }
      if (existing) {
        if (!plan.peak.isPeakOwner(existing.getValue() ?? '')) {
          findings.push(
            finding(
              'chown-other-user',
              i,
              `${keyword} --chown=${existing.getValue() ?? ''} gives the files to another user than ${options.user}; it was left as it is`,
              `use --chown=${value} if the application must write to these files`,
            ),
          );
        }
        return;
      }
      // Before the user exists (a hand migration that creates it later) --chown=<name> would fail the build.
      if (index < plan.userReadyIndex) return;
      const target = destination(i, workdir);
      if (target) {
        // Single files copied to `/` (`COPY app.py /`) are the application's; the directory `/` itself is not touched.
        const kind = target.path === '/' ? 'app' : classifyPath(target.path, options.home);
        if (kind === 'root-home') {
          findings.push(
            finding(
              'root-home-path',
              i,
              `${keyword} into ${target.path}, under root's home (0700 root): the program, running as ${options.uidArg}, cannot reach it`,
              "copy it under the application's directory or the user's home",
              'copy-into-root-home',
            ),
          );
          return;
        }
        if (kind === 'other-home') {
          findings.push(
            finding(
              'other-user-home',
              i,
              `${keyword} into ${target.path}, another user's home, keeps its owner: that home is not given to ${options.user}`,
              'copy the application to a directory of its own (e.g. /app) if the program must write there',
              'copy-into-other-home',
            ),
          );
          return;
        }
        if (kind !== 'app' || target.rootFilesystem) {
          findings.push(
            finding(
              'chown-system-path',
              i,
              `${keyword} into ${target.rootFilesystem ? 'the root file system' : target.path} keeps its owner: the user gets the application's files, not the operating system's`,
              `if the program must rewrite these files, copy them to an application directory with --chown=${value}`,
              target.rootFilesystem ? 'root-filesystem' : 'os-location',
            ),
          );
          return;
        }
      }
      // BuildKit's --link layers cannot resolve names (`invalid user index: -1`): only numeric ids work there.
      const linked = flag(i, 'link') !== undefined;
      edits.push({ offset: model.lines.offsetAt(i.getInstructionRange().end), remove: 0, insert: ` --chown=${linked ? numeric : value}` });
    });
    return { edits, findings };
  },
};
