import type { Instruction } from 'dockerfile-ast';
import type { FixOptions } from '../types.js';
import {
  instructionText,
  lastUserIndex,
  stageBase,
  userBefore,
  userValue,
  type DockerfileModel,
  type Stage,
  type StageBase,
} from './dockerfile.js';

/**
 * Recognises the lines of Peak's recipe, whoever wrote them: either version of the guide, a hand
 * migration, or an earlier run of peak-fix. Recognition is by meaning (a RUN that creates the user),
 * not by exact text, so reworded hand migrations count and nothing is ever added twice.
 */
export class PeakLines {
  private readonly userWord: RegExp;
  private readonly homeWord: RegExp;
  private readonly peakUserValues: Set<string>;

  constructor(
    private readonly model: DockerfileModel,
    readonly options: FixOptions,
  ) {
    this.userWord = new RegExp(`(^|[\\s'"=:])${escapeRegExp(options.user)}($|[\\s'":;)&|])`);
    this.homeWord = new RegExp(`(^|[\\s'"=])${escapeRegExp(options.home)}/?($|[\\s'";)&|])`);
    const arg = options.uidArg;
    this.peakUserValues = new Set([`$${arg}`, `\${${arg}}`, options.user]);
  }

  private text(instruction: Instruction): string {
    return instructionText(this.model, instruction);
  }

  isUidArg(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'ARG') return false;
    return instruction.getArguments().some((a) => a.getValue().split('=')[0] === this.options.uidArg);
  }

  isUidEnv(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'ENV') return false;
    return instruction.getArguments().some((a) => a.getValue().split('=')[0] === this.options.uidArg);
  }

  /** A RUN that creates the user (`useradd`/`adduser` naming it). */
  createsUser(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'RUN') return false;
    const text = this.text(instruction);
    // `>> /etc/passwd`: the line written where no user tool accepts the UID (ubi-minimal, busybox with a taken UID).
    return /\b(useradd|adduser)\b|>>\s*\/etc\/passwd\b/.test(text) && this.userWord.test(text);
  }

  /** A RUN that gives the user its home (`chown ... <home>`, or the `find ... -exec chown` form). */
  ownsHome(instruction: Instruction): boolean {
    if (instruction.getKeyword() !== 'RUN') return false;
    const text = this.text(instruction);
    return /\bchown\b/.test(text) && this.homeWord.test(text) && this.userWord.test(text);
  }

  /** A RUN that gives the user a directory: recognised so a later run does not add it again. */
  ownsPath(instruction: Instruction, path: string): boolean {
    return this.ownedPaths(instruction).has(normalisePath(path));
  }

  private readonly owned = new Map<Instruction, Set<string>>();

  /** The literal absolute paths named in a RUN that runs chown (cached: transforms ask for every directory). */
  ownedPaths(instruction: Instruction): Set<string> {
    let paths = this.owned.get(instruction);
    if (!paths) {
      paths = new Set();
      if (instruction.getKeyword() === 'RUN') {
        const text = this.text(instruction);
        if (/\bchown\b/.test(text)) {
          for (const match of text.matchAll(/(?:^|[\s'"=])(\/[A-Za-z0-9._@+\-/]*)(?=$|[\s'";)&|])/g)) paths.add(normalisePath(match[1]));
        }
      }
      this.owned.set(instruction, paths);
    }
    return paths;
  }

  /** Lines that Peak's recipe adds; they are not application build steps. */
  isPeakManaged(instruction: Instruction): boolean {
    const keyword = instruction.getKeyword();
    if (keyword === 'RUN') {
      const text = this.text(instruction);
      return this.userWord.test(text) && /\b(useradd|adduser|chown|addgroup|groupadd)\b/.test(text);
    }
    return this.isUidArg(instruction) || this.isUidEnv(instruction) || this.isPeakUser(instruction) || this.isHomeWorkdir(instruction);
  }

  /** The owner named by a `--chown` value is the Peak user (by name or by the UID variable). */
  isPeakOwner(chownValue: string): boolean {
    const owner = chownValue.split(':')[0];
    return this.peakUserValues.has(owner);
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

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
  /** Instructions at this index and later run once the user exists; Infinity when it never does. */
  userReadyIndex: number;
  /** The user in force when the stage starts, before any rewrite (null: root). */
  startUser: string | null;
}

export function planStage(model: DockerfileModel, stage: Stage, options: FixOptions, targets: ReadonlySet<Stage>): StagePlan {
  const peak = new PeakLines(model, options);
  const base = stageBase(model, stage);
  const existingCreate = stage.instructions.findIndex((i) => peak.createsUser(i));
  const userFromParent = createsUserInChain(stage.parent, peak, targets);
  // A parent that already ends as the Peak user keeps ending so: only a parent this run switches needs undoing.
  const parentRewritten = stage.parent !== null && targets.has(stage.parent) && !endsAsPeakUser(stage.parent, peak);
  let userReadyIndex: number;
  if (userFromParent) userReadyIndex = 0;
  else if (existingCreate >= 0) userReadyIndex = existingCreate + 1;
  else if (base.facts.os === 'windows') userReadyIndex = Infinity;
  else userReadyIndex = 0;
  return {
    stage,
    base,
    peak,
    existingCreate,
    userFromParent,
    parentRewritten,
    userReadyIndex,
    startUser: userBefore(model, stage, 0),
  };
}

/** Whether the user exists at the end of `stage` (created there or further up, or inserted by this run). */
function createsUserInChain(stage: Stage | null, peak: PeakLines, targets: ReadonlySet<Stage>): boolean {
  for (let s = stage; s; s = s.parent) {
    if (targets.has(s)) return true;
    if (s.instructions.some((i) => peak.createsUser(i))) return true;
  }
  return false;
}

function endsAsPeakUser(stage: Stage, peak: PeakLines): boolean {
  const last = lastUserIndex(stage);
  return last >= 0 && peak.isPeakUser(stage.instructions[last]);
}
