import type { Instruction } from 'dockerfile-ast';
import type { EngineInputs, FixOptions } from '../types.js';
import { MENTIONS, NO_FACTS, runFacts, runScripts, type RunFacts } from './run.js';
import type { Word } from './shell.js';
import {
  argumentsOf,
  chownFlag,
  instructionText,
  isRootUser,
  lastUserIndex,
  userValue,
  type DockerfileModel,
  type Stage,
} from './dockerfile.js';
import { stageBase, userBefore, type StageBase } from './base.js';
import { can } from '../facts/image.js';

/**
 * Recognises the lines of Peak's recipe, whoever wrote them: either version of the guide, a hand
 * migration, or an earlier run of peak-fix. Recognition is by meaning (a RUN that creates the user),
 * not by exact text, so reworded hand migrations count and nothing is ever added twice.
 */
export class PeakLines {
  private readonly peakUserValues: Set<string>;
  /** `${PEAK_USER_ID:?` or `${PEAK_USER_ID?`: a RUN without it guards nothing. */
  private readonly guardWord: RegExp;
  private readonly facts = new Map<Instruction, RunFacts>();
  /** Answers about stage chains, one map per question (see anyInChain); a PeakLines lives for one run. */
  readonly chainMemo = { creates: new Map<Stage, boolean>(), createdByHand: new Map<Stage, boolean>(), guards: new Map<Stage, boolean>() };

  constructor(
    private readonly model: DockerfileModel,
    readonly options: FixOptions,
  ) {
    const arg = options.uidArg;
    this.peakUserValues = new Set([`$${arg}`, `\${${arg}}`, options.user]);
    // The UID argument is a validated identifier (options.ts): safe to put in a pattern as it is.
    this.guardWord = new RegExp(`\\$\\{${arg}:?\\?`);
  }

  /** The RUN's commands as far as ownership goes (parsed once per instruction). */
  run(instruction: Instruction): RunFacts {
    let facts = this.facts.get(instruction);
    if (!facts) {
      facts = instruction.getKeyword() === 'RUN' ? runFacts(this.scriptsOf(instruction)) : NO_FACTS;
      this.facts.set(instruction, facts);
    }
    return facts;
  }

  /**
   * The RUN's facts when its script contains `word`, else none without parsing it: the shell parse costs about as
   * much as the whole Dockerfile's, and most RUN lines (package installs) answer no question but one or two.
   */
  mentioning(instruction: Instruction, word: RegExp): RunFacts {
    if (instruction.getKeyword() !== 'RUN') return NO_FACTS;
    if (!this.facts.has(instruction) && !this.scriptsOf(instruction).some((script) => word.test(script))) return NO_FACTS;
    return this.run(instruction);
  }

  private readonly scripts = new Map<Instruction, string[]>();

  private scriptsOf(instruction: Instruction): string[] {
    let scripts = this.scripts.get(instruction);
    if (!scripts) {
      scripts = runScripts(this.model, instruction);
      this.scripts.set(instruction, scripts);
    }
    return scripts;
  }

  isUidArg(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'ARG') return false;
    return argumentsOf(instruction).some((a) => a.getValue().split('=')[0] === this.options.uidArg);
  }

  isUidEnv(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'ENV') return false;
    return envPairs(instruction).some(([name]) => name === this.options.uidArg);
  }

  /** A RUN whose `useradd`/`adduser` command creates the user (its operand, not a word elsewhere). */
  createsUser(instruction: Instruction): boolean {
    return this.userCreation(instruction) !== undefined;
  }

  /** The UID word the RUN creates the user with (null: none given), or undefined when it does not create it. */
  userCreation(instruction: Instruction): { uid: Word | null } | undefined {
    if (instruction.getKeyword() !== 'RUN') return undefined;
    return this.mentioning(instruction, MENTIONS.creates).creates.find((c) => c.name === this.options.user);
  }

  /** The UID word takes the build argument as it is: `$PEAK_USER_ID`, `"${PEAK_USER_ID}"`, `${PEAK_USER_ID:?…}`. */
  isUidWord(word: Word | null): boolean {
    if (!word) return false;
    const raw = word.raw.replace(/^"|"$/g, '');
    const arg = this.options.uidArg;
    return raw === `$${arg}` || raw === `\${${arg}}` || raw.startsWith(`\${${arg}:?`) || raw.startsWith(`\${${arg}?`);
  }

  /** A RUN that refuses an empty UID (`${PEAK_USER_ID:?…}` anywhere in its commands' words). */
  guardsUid(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'RUN') return false;
    const arg = this.options.uidArg;
    const guard = [`\${${arg}:?`, `\${${arg}?`];
    return this.mentioning(instruction, this.guardWord).commands.some((c) => c.args.some((w) => guard.some((g) => w.raw.includes(g))));
  }

  /** A RUN that gives the user its home (`chown ... <home>`, or the `find ... -exec chown` form). */
  ownsHome(instruction: Instruction): boolean {
    return this.ownedPaths(instruction).has(normalisePath(this.options.home));
  }

  /** A RUN that gives the user a directory: recognised so a later run does not add it again. */
  ownsPath(instruction: Instruction, path: string): boolean {
    return this.ownedPaths(instruction).has(normalisePath(path));
  }

  private readonly owned = new Map<Instruction, Set<string>>();

  /** The literal absolute paths a RUN gives to the Peak user: only a chown to the user or its UID counts. */
  ownedPaths(instruction: Instruction): Set<string> {
    let paths = this.owned.get(instruction);
    if (!paths) {
      paths = new Set();
      for (const chown of this.mentioning(instruction, MENTIONS.chowns).chowns) {
        if (this.isPeakOwner(chown.owner.raw)) for (const path of chown.paths) if (path.startsWith('/')) paths.add(normalisePath(path));
      }
      this.owned.set(instruction, paths);
    }
    return paths;
  }

  /** Lines that Peak's recipe adds; they are not application build steps. */
  isPeakManaged(instruction: Instruction): boolean {
    const keyword = instruction.getKeyword();
    if (keyword === 'RUN') {
      if (this.createsUser(instruction)) return true;
      // Otherwise only a RUN of the recipe's commands alone that gives the user a path or guards the UID.
      if (this.ownedPaths(instruction).size === 0 && !this.guardsUid(instruction)) return false;
      const facts = this.run(instruction);
      return facts.commands.length > 0 && facts.commands.every((c) => PEAK_COMMANDS.has(c.name ?? ''));
    }
    return (
      this.isUidArg(instruction) ||
      this.isUidEnv(instruction) ||
      this.isHomeEnv(instruction) ||
      this.isPeakUser(instruction) ||
      this.isHomeWorkdir(instruction)
    );
  }

  /** `ENV HOME=<home>`: the recipe's, where Docker would not take the home from the passwd entry. */
  isHomeEnv(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'ENV') return false;
    const pairs = envPairs(instruction);
    return pairs.length === 1 && pairs[0][0] === 'HOME' && normalisePath(pairs[0][1]) === normalisePath(this.options.home);
  }

  /** The owner named by a `--chown` value or a chown operand is the Peak user (by name or by the UID variable). */
  isPeakOwner(chownValue: string): boolean {
    const owner = chownValue.replace(/^["']|["']$/g, '').split(':')[0];
    return this.peakUserValues.has(owner) || owner.startsWith(`\${${this.options.uidArg}:?`);
  }
  isHomeWorkdir(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'WORKDIR') return false;
    return normalisePath(userValue(instruction)) === normalisePath(this.options.home);
  }

  /** `USER $PEAK_USER_ID`, `USER ${PEAK_USER_ID}`, `USER ${PEAK_USER_ID:?...}` or `USER peak-user`, with or without a group. */
  isPeakUser(instruction: Instruction): boolean {
    return instruction.getKeyword() === 'USER' && this.isPeakUserValue(userValue(instruction));
  }

  /** A USER value (as `userBefore` returns it) that names the Peak user. */
  isPeakUserValue(value: string | null): boolean {
    if (value === null) return false;
    if (value.startsWith(`\${${this.options.uidArg}:?`) || value.startsWith(`\${${this.options.uidArg}?`)) return true;
    return this.peakUserValues.has(value.split(':')[0]);
  }
}

/** Commands of the recipe's own lines (a hand migration may write them in any order). */
const PEAK_COMMANDS = new Set([
  ':',
  'id',
  'command',
  'useradd',
  'adduser',
  'groupadd',
  'addgroup',
  'groupmod',
  'sed',
  'usermod',
  'chown',
  'find',
  'mkdir',
  'touch',
  'chmod',
  '[[',
  '[',
  'test',
  'true',
  'echo',
  'grep',
  'cat',
]);

/** NAME=VALUE pairs of an ENV, in both forms (`ENV A=1 B=2` and the old `ENV A 1`). */
export function envPairs(env: Instruction): [string, string][] {
  const properties =
    (env as unknown as { getProperties?: () => { getName(): string; getValue(): string | null }[] }).getProperties?.() ?? [];
  return properties.map((p) => [p.getName(), p.getValue() ?? '']);
}

export function normalisePath(path: string): string {
  const trimmed = path.trim().replace(/^["']|["']$/g, '');
  return trimmed.length > 1 ? trimmed.replace(/\/+$/, '') : trimmed;
}

/** What a migration of one stage starts from, derived once from the model and shared by the transforms. */
export interface StagePlan {
  stage: Stage;
  base: StageBase;
  peak: PeakLines;
  /** Index of an existing RUN that creates the user in this stage, or -1. */
  existingCreate: number;
  /** The user already exists when the stage starts (created in an earlier stage it is built FROM). */
  userFromParent: boolean;
  /** This run switches the stage's parent to the Peak user at its end (`--all-stages`). */
  parentRewritten: boolean;
  /**
   * Where the user block goes: after `stage.instructions[blockAfter]`, or right after FROM (and the UID's ARG/ENV
   * lines there) when -1. On a base whose user is not root or not known, it goes after the stage's own first
   * `USER root`, where the original itself becomes root.
   */
  blockAfter: number;
  /** Instructions at this index and later run once the user exists; Infinity when it never does. */
  userReadyIndex: number;
  /** The user in force when the stage starts, before any rewrite (null: root). */
  startUser: string | null;
  /**
   * The block goes right after FROM on a base that does not start as root, and the stage has no original RUN,
   * WORKDIR, COPY, ADD or USER (a stage of ENV, LABEL, CMD...): the block leaves root in force for the closing lines
   * rather than restoring a user nothing would run as.
   */
  blockLeavesRoot: boolean;
  /**
   * The stage starts from an image that was itself migrated (it ends as the UID and already has the user): the
   * stage goes back to root right after its FROM, and the user's UID is set to this build's argument.
   */
  baseMigrated: boolean;
  /** Whether the block may declare `ENV <uidArg>`: not in an image others are built FROM (EngineInputs.buildsBaseImage). */
  declareUidEnv: boolean;
  /** The block inserts `WORKDIR <home>` (nothing relies on the inherited working directory, or the options ask). */
  homeWorkdir: boolean;
  /** What relies on the inherited working directory, when the WORKDIR is left out for that reason. */
  workdirReliance?: Instruction | 'runtime';
  /** Index of the stage's last USER, or -1. */
  finalUserIndex: number;
  /** The stage already ends as the Peak user (a hand migration), so the closing lines go before that USER. */
  endsAsPeak: boolean;
  /** Where the closing lines go: before `instructions[closingAt]`, or at the end when it is their length. */
  closingAt: number;
}

/** See StagePlan.blockLeavesRoot. */
function leavesRoot(stage: Stage, peak: PeakLines, base: StageBase, startUser: string | null, blockAfter: number): boolean {
  if (blockAfter >= 0 || !can.run(base.facts) || isRootUser(startUser)) return false;
  return firstUserStep(stage, peak) === undefined;
}

/** The stage's first original instruction that the user in force matters to: RUN, WORKDIR, COPY, ADD or USER. */
export function firstUserStep(stage: Stage, peak: PeakLines): Instruction | undefined {
  return stage.instructions.find((i) => !peak.isPeakManaged(i) && ['RUN', 'WORKDIR', 'COPY', 'ADD', 'USER'].includes(i.getKeyword()));
}

export function planStage(
  model: DockerfileModel,
  stage: Stage,
  options: FixOptions,
  targets: ReadonlySet<Stage>,
  inputs: EngineInputs = {},
  peak: PeakLines = new PeakLines(model, options),
): StagePlan {
  const base = stageBase(model, stage);
  const existingCreate = stage.instructions.findIndex((i) => peak.createsUser(i));
  const userFromParent = createsUserInChain(stage.parent, peak, targets);
  // A parent that already ends as the Peak user keeps ending so: only a parent this run switches needs undoing.
  const parentRewritten = stage.parent !== null && targets.has(stage.parent) && !endsAsPeakUser(stage.parent, peak);
  const startUser = userBefore(model, stage, 0);
  const inserting = !userFromParent && existingCreate < 0 && base.facts.os !== 'windows';
  const blockAfter = inserting ? blockPosition(stage, startUser, base, peak) : -1;
  const blockLeavesRoot = inserting && leavesRoot(stage, peak, base, startUser, blockAfter);
  let userReadyIndex: number;
  if (userFromParent) userReadyIndex = 0;
  else if (existingCreate >= 0) userReadyIndex = existingCreate + 1;
  else if (base.facts.os === 'windows') userReadyIndex = Infinity;
  else userReadyIndex = blockAfter + 1;
  const workdir = inserting ? homeWorkdirDecision(stage, options, blockAfter) : { insert: false };
  const finalUserIndex = lastUserIndex(stage);
  const endsAsPeak = finalUserIndex >= 0 && peak.isPeakUser(stage.instructions[finalUserIndex]);
  // The closing lines go before a final USER of the Peak user, unless the user is only created after it (a hand
  // migration in odd order): then at the end.
  const closingAt = endsAsPeak && userReadyIndex <= finalUserIndex ? finalUserIndex : stage.instructions.length;
  return {
    stage,
    base,
    peak,
    existingCreate,
    userFromParent,
    parentRewritten,
    blockAfter,
    userReadyIndex,
    startUser,
    blockLeavesRoot,
    baseMigrated: stage.parent === null && base.image.migrated,
    // The image others are built FROM is the final stage, or the stage compose and bake build (buildStages).
    declareUidEnv: !(
      inputs.buildsBaseImage === true &&
      (stage.isFinal || (inputs.buildStages ?? []).some((n) => n.toLowerCase() === stage.name))
    ),
    homeWorkdir: workdir.insert,
    ...(workdir.reliance ? { workdirReliance: workdir.reliance } : {}),
    finalUserIndex,
    endsAsPeak,
    closingAt,
  };
}

/**
 * Where the user block goes. Right after FROM when the stage starts as root; on a base whose user is not root, or
 * not known, after the stage's own first `USER root` or `USER 0` when nothing before it wants the user (a COPY to
 * give, a VOLUME to prepare): the original becomes root there itself, so the block needs no `USER 0` around it and
 * every original step keeps its user. Otherwise right after FROM (asRoot switches to root around it when the user
 * is known; an unknown base is taken to start as root, and reported).
 */
function blockPosition(stage: Stage, startUser: string | null, base: StageBase, peak: PeakLines): number {
  // Without a shell the block is only ARG and ENV: nothing in it needs root.
  if ((isRootUser(startUser) && base.image.known) || !base.facts.shell) return -1;
  const firstRoot = stage.instructions.findIndex((i) => i.getKeyword() === 'USER' && isRootUser(userValue(i)));
  if (firstRoot < 0) return -1;
  const before = stage.instructions.slice(0, firstRoot);
  // What names the user (a chown to it, its --chown) needs it to exist already.
  if (before.some((i) => peak.ownedPaths(i).size > 0 || peak.isPeakOwner(chownFlagValue(i)))) return -1;
  const wantsUserBefore = before.some((i) => ['COPY', 'ADD', 'VOLUME'].includes(i.getKeyword()));
  if (wantsUserBefore && !isRootUser(startUser)) return -1;
  return firstRoot;
}

function chownFlagValue(i: Instruction): string {
  return chownFlag(i)?.getValue() ?? '';
}

/** Instructions whose meaning depends on the working directory they inherit. */
function reliesOnWorkdir(i: Instruction): boolean {
  switch (i.getKeyword()) {
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
    case 'HEALTHCHECK':
      return true;
    case 'COPY':
    case 'ADD': {
      // The last argument, in plain or JSON form (`COPY ["a b", "/dst/"]`).
      const args = argumentsOf(i);
      const destination = (args[args.length - 1]?.getValue() ?? '').replace(/^\[?\s*"?/, '');
      return !destination.startsWith('/');
    }
    default:
      return false;
  }
}

/**
 * Whether the block inserts `WORKDIR <home>`: the guide's line, left out where something after the block uses the
 * working directory the stage inherits (an instruction, or the container's command when the stage sets none), since
 * moving it would change what the image does; and where the stage sets its own before anything uses it.
 */
function homeWorkdirDecision(
  stage: Stage,
  options: FixOptions,
  blockAfter: number,
): { insert: boolean; reliance?: Instruction | 'runtime' } {
  if (options.preset === 'peak-doc' || options.workdir === 'always') return { insert: true };
  if (options.workdir === 'never') return { insert: false };
  for (const i of stage.instructions.slice(blockAfter + 1)) {
    // A relative WORKDIR is resolved against the inherited directory.
    if (i.getKeyword() === 'WORKDIR') {
      return /^["']?\//.test(argumentsOf(i)[0]?.getValue() ?? '') ? { insert: false } : { insert: false, reliance: i };
    }
    if (reliesOnWorkdir(i)) return { insert: false, reliance: i };
  }
  return { insert: false, reliance: 'runtime' };
}

/**
 * Whether `holds` is true of `stage` or of any stage it is built from. Memoised in `memo` (one per question and run)
 * and computed from the top of the chain down, so 20,000 chained stages cost linear time and no stack.
 */
function anyInChain(stage: Stage, memo: Map<Stage, boolean>, holds: (s: Stage) => boolean): boolean {
  const pending: Stage[] = [];
  for (let s: Stage | null = stage; s && !memo.has(s); s = s.parent) pending.push(s);
  for (const s of pending.reverse()) memo.set(s, (s.parent ? (memo.get(s.parent) as boolean) : false) || holds(s));
  return memo.get(stage) as boolean;
}

/** Whether the user exists at the end of `stage` (created there or further up, or inserted by this run). */
function createsUserInChain(stage: Stage | null, peak: PeakLines, targets: ReadonlySet<Stage>): boolean {
  if (!stage) return false;
  return anyInChain(stage, peak.chainMemo.creates, (s) => targets.has(s) || s.instructions.some((i) => peak.createsUser(i)));
}

/** Some RUN of the stage, or of a stage it is built from, creates the user (what the original does, before any rewrite). */
export function createdByHandInChain(stage: Stage, peak: PeakLines): boolean {
  return anyInChain(stage, peak.chainMemo.createdByHand, (s) => s.instructions.some((i) => peak.createsUser(i)));
}

/** Some RUN of the stage, or of a stage it is built from, refuses an empty UID. */
export function guardedInChain(stage: Stage, peak: PeakLines): boolean {
  return anyInChain(stage, peak.chainMemo.guards, (s) => s.instructions.some((i) => peak.guardsUid(i)));
}

function endsAsPeakUser(stage: Stage, peak: PeakLines): boolean {
  const last = lastUserIndex(stage);
  return last >= 0 && peak.isPeakUser(stage.instructions[last]);
}
