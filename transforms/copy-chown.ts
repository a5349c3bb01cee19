import type { Instruction } from 'dockerfile-ast';
import type { TextEdit } from '../src/edits.js';
import { RUNTIME_VARIABLES } from '../src/facts/paths.js';
import { copyFlag, copyTarget, type CopyTarget } from '../src/model/copy.js';
import { classifyPath } from '../src/facts/paths.js';
import { chownFlag, lineOf, type Stage } from '../src/model/dockerfile.js';
import type { PeakLines } from '../src/model/peak.js';
import { isRootOwner, MENTIONS } from '../src/model/run.js';
import { chownFlagValue } from '../src/rewrite/recipe.js';
import { finding, type Transform } from '../src/rewrite/transform.js';
import type { EngineInputs, Finding } from '../src/types.js';

const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$/i;

/** ADD extracts local tar archives (not URLs): --chown does not reach what it extracts. */
function addsLocalArchive(target: CopyTarget): boolean {
  return target.sources.some((source) => !/^[a-z]+:\/\//i.test(source) && ARCHIVE.test(source));
}

/** Top-level directories of a root file system (FHS): a context folder holding them is one. */
const ROOT_FILESYSTEM_DIRS = new Set(['bin/', 'etc/', 'lib/', 'opt/', 'sbin/', 'usr/', 'var/', 'srv/', 'run/']);

function contextEntries(inputs: EngineInputs, source: string): readonly string[] | undefined {
  const clean = source.replace(/^\.\//, '').replace(/\/+$/, '') || '.';
  return inputs.contextDirs?.get(clean);
}

/** The copy puts one file (not a directory) where it lands: the context says so, else the name has an extension. */
function copiesOneFile(target: CopyTarget, inputs: EngineInputs): boolean {
  if (target.heredoc) return !target.intoDirectory;
  if (target.sources.length !== 1) return false;
  const source = target.sources[0];
  // A glob may match several files; ADD unpacks a local archive into a tree.
  if (/[*?[]/.test(source) || (!/^[a-z]+:\/\//i.test(source) && ARCHIVE.test(source))) return false;
  if (target.from === null && !/^[a-z]+:\/\//i.test(source)) {
    const clean = source.replace(/^\.\//, '');
    const parent = clean.includes('/') ? clean.slice(0, clean.lastIndexOf('/')) : '.';
    const listed = inputs.contextDirs?.get(parent);
    const name = clean.slice(clean.lastIndexOf('/') + 1);
    if (listed?.includes(`${name}/`)) return false;
    if (listed?.includes(name)) return true;
  }
  if (source.endsWith('/')) return false;
  return /\.[A-Za-z0-9]{1,8}$/.test(source) || /\.[A-Za-z0-9]{1,8}$/.test(target.raw);
}

/** The whole build context (`COPY . /`), unless the context is itself a root file system. */
function copiesApplicationOntoRoot(target: CopyTarget, inputs: EngineInputs): boolean {
  if (target.from !== null || target.sources.length === 0) return false;
  if (!target.sources.every((s) => s === '.' || s === './')) return false;
  const entries = contextEntries(inputs, '.');
  return !(entries ?? []).some((e) => ROOT_FILESYSTEM_DIRS.has(e));
}

type Placement = { owner: 'user' } | { owner: 'keep'; rule: string; messageId: string; where: string };

/**
 * Who should own what a COPY/ADD brings in, from where it lands (the ownership policy, src/model/dirs.ts): the
 * application's files go to the user; a root file system, files dropped straight into `/` (entrypoints,
 * configuration), operating-system locations and runtime installs (`$JAVA_HOME`, /usr/local/go) keep root as
 * their owner: the program reads and runs them, it does not rewrite them.
 */
function placement(target: CopyTarget | null, home: string, inputs: EngineInputs): Placement {
  if (target === null) return { owner: 'user' };
  const runtimeVariable = target.variables.find((v) => RUNTIME_VARIABLES.has(v));
  if (runtimeVariable)
    return { owner: 'keep', rule: 'chown-system-path', messageId: 'runtime', where: `$${runtimeVariable}, a runtime's install` };
  const path = target.path;
  if (path === null) return { owner: 'user' };
  if (copiesOneFile(target, inputs)) {
    // `COPY run.sh /` and `COPY run.sh .` under `WORKDIR /` land at /run.sh, as `COPY run.sh /run.sh` does.
    const intoDirectory = target.raw.endsWith('/') || /^\.?$/.test(target.raw.replace(/\/+$/, '')) || target.intoExistingDirectory;
    const name = (target.sources[0] ?? '').replace(/\/+$/, '').replace(/^.*\//, '');
    const landing = intoDirectory && !target.heredoc ? `${path === '/' ? '' : path}/${name}` : path;
    if (landing.lastIndexOf('/') === 0)
      return { owner: 'keep', rule: 'chown-system-path', messageId: 'root-file', where: `${landing}, a file in /` };
  }
  if (path === '/') {
    if (copiesApplicationOntoRoot(target, inputs)) return { owner: 'user' };
    return { owner: 'keep', rule: 'chown-system-path', messageId: 'root-filesystem', where: 'the root file system' };
  }
  const kind = classifyPath(path, home);
  switch (kind) {
    case 'app':
      return { owner: 'user' };
    case 'root-home':
      return { owner: 'keep', rule: 'root-home-path', messageId: 'copy-into-root-home', where: path };
    case 'other-home':
      return { owner: 'keep', rule: 'other-user-home', messageId: 'copy-into-other-home', where: path };
    default:
      return { owner: 'keep', rule: 'chown-system-path', messageId: 'os-location', where: path };
  }
}

/**
 * The RUNs of the stage that give paths back to root on purpose (`chown -R root:root /app`, "keep /app immutable to
 * the runtime user"), with their index: a --chown on a COPY there would be undone, so none is added.
 */
function rootChowns(stage: Stage, peak: PeakLines): { at: number; run: Instruction; paths: string[] }[] {
  return stage.instructions.flatMap((run, at) => {
    if (run.getKeyword() !== 'RUN') return [];
    const paths = peak
      .mentioning(run, MENTIONS.chowns)
      .chowns.flatMap((chown) => (isRootOwner(chown.owner) && chown.recursive ? chown.paths.map((p) => p.replace(/\/+$/, '')) : []));
    return paths.length > 0 ? [{ at, run, paths }] : [];
  });
}

/** The first of `chowns` after `index` that gives `path` back to root. */
function chownedToRootLater(chowns: ReturnType<typeof rootChowns>, index: number, path: string): Instruction | undefined {
  return chowns.find((c) => c.at > index && c.paths.some((p) => path === p || path.startsWith(`${p}/`)))?.run;
}

function otherUserFinding(i: Instruction, owner: string, user: string, chownValue: string): Finding {
  return finding(
    'chown-other-user',
    i,
    `${i.getKeyword()} --chown=${owner} gives the files to another user than ${user}; it was left as it is`,
    `use --chown=${chownValue} if the application must write to these files`,
  );
}

function keptFinding(i: Instruction, p: Exclude<Placement, { owner: 'user' }>, user: string, chownValue: string): Finding {
  const keyword = i.getKeyword();
  switch (p.rule) {
    case 'root-home-path':
      return finding(
        'root-home-path',
        i,
        `${keyword} into ${p.where}, under root's home (0700 root): the program, running as a non-root UID, cannot reach it`,
        "copy it under the application's directory or the user's home",
        p.messageId,
      );
    case 'other-user-home':
      return finding(
        'other-user-home',
        i,
        `${keyword} into ${p.where}, another user's home, keeps its owner: that home is not given to ${user}`,
        'copy the application to a directory of its own (e.g. /app) if the program must write there',
        p.messageId,
      );
    default:
      return finding(
        'chown-system-path',
        i,
        `${keyword} into ${p.where} keeps root as owner: ${user} can read and run it, and gets the application's files and directories, not the system's`,
        `if the program must rewrite these files, copy them to an application directory with --chown=${chownValue}`,
        p.messageId,
      );
  }
}

export const copyChown: Transform = {
  id: 'copy-chown',
  summary: "Adds --chown to every COPY and ADD of the application's files once the user exists, so the user owns them.",
  apply({ model, options, plan, inputs }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const value = chownFlagValue(options, plan.base.facts);
    const numeric = `$${options.uidArg}:$${options.uidArg}`;
    const toRoot = rootChowns(plan.stage, plan.peak);
    plan.stage.instructions.forEach((i, index) => {
      const keyword = i.getKeyword();
      if (keyword !== 'COPY' && keyword !== 'ADD') return;
      const existing = chownFlag(i);
      const target = copyTarget(model, plan.stage, index);
      const where = placement(target, options.home, inputs);
      const willOwn = existing !== undefined || (index >= plan.userReadyIndex && where.owner === 'user');
      if (keyword === 'ADD' && willOwn && target && addsLocalArchive(target)) {
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
        if (!plan.peak.isPeakOwner(existing.getValue() ?? ''))
          findings.push(otherUserFinding(i, existing.getValue() ?? '', options.user, value));
        return;
      }
      // Before the user exists (a hand migration that creates it later) --chown=<name> would fail the build.
      if (index < plan.userReadyIndex) return;
      if (where.owner === 'keep') {
        findings.push(keptFinding(i, where, options.user, value));
        return;
      }
      const rootAgain = target?.path ? chownedToRootLater(toRoot, index, target.path) : undefined;
      if (rootAgain) {
        const message = `${keyword} into ${target?.path} gets no --chown: line ${lineOf(rootAgain)} gives it to root again`;
        findings.push(finding('chown-system-path', i, message, undefined, 'root-again'));
        return;
      }
      // BuildKit's --link layers cannot resolve names (`invalid user index: -1`): only numeric ids work there.
      const linked = copyFlag(i, 'link') !== undefined;
      const why = linked
        ? `${options.user} owns the application's files it copies in (guide, step 2); numeric, as --link layers cannot resolve names`
        : `${options.user} owns the application's files it copies in (guide, step 2)`;
      edits.push({
        offset: model.lines.offsetAt(i.getInstructionRange().end),
        remove: 0,
        insert: ` --chown=${linked ? numeric : value}`,
        reasons: [why],
      });
    });
    return { edits, findings };
  },
};
