import { describeSource } from './facts/image.js';
import { applyEdits, explainEdits, type LineIndex, type TextEdit } from './edits.js';
import { resolveBases, stageBase, type StageBase } from './model/base.js';
import { endOffset, isRootUser, lineOf, parseDockerfile, type DockerfileModel, type Stage } from './model/dockerfile.js';
import { userBefore } from './model/base.js';
import { createdByHandInChain, PeakLines, planStage } from './model/peak.js';
import { validateOptions } from './options.js';
import { because, instruction, Renderer } from './rewrite/render.js';
import { blocksStage } from './rewrite/rules.js';
import { finding } from './rewrite/transform.js';
import { transforms } from '../transforms/index.js';
import type { EngineInputs, FinalBase, Finding, FixOptions, FixResult } from './types.js';

/** A `# peak-fix-disable` comment among the first lines leaves the whole file as it is. */
const DISABLE = /^\uFEFF?(?:[ \t]*(?:#.*)?(?:\r\n|\r|\n))*?[ \t]*#[ \t]*peak-fix-disable\b/;
const DISABLED = 'disabled by a # peak-fix-disable comment';

/**
 * Migrates one Dockerfile's text. Pure: no disk, no clock; what is known of base images and the values of FROM
 * variables come in `inputs`. Throws PeakFixError for input that cannot be migrated (no FROM, an unterminated
 * heredoc or line continuation); a base image that cannot be known is a skip with the `unresolved-base` finding.
 */
export function fixDockerfile(text: string, partialOptions: Partial<FixOptions> = {}, inputs: EngineInputs = {}): FixResult {
  const options = validateOptions(partialOptions);
  if (DISABLE.test(text)) return unchanged(text, [], DISABLED, disabledBase(text, inputs));
  // Facts given by the caller (organisation catalog, inspected images) come first; the built-in catalog is the fallback.
  return fixModel(parseDockerfile(text, inputs), options, inputs);
}

/**
 * fixDockerfile on a text already parsed with `parseDockerfile(text, inputs)` (the same inputs), for callers that
 * also read the model themselves (the property tests): the parse is most of the engine's cost. The model is only read.
 */
export function fixModel(model: DockerfileModel, options: FixOptions, inputs: EngineInputs = {}): FixResult {
  const { text } = model;
  if (DISABLE.test(text)) return unchanged(text, [], DISABLED, finalBase(model));
  resolveBases(model);
  const final = model.stages[model.stages.length - 1];
  const base = finalBase(model);
  const skip = finalStageSkip(model, final, inputs);
  if (skip) return unchanged(text, [finding(skip.rule, final.from, `skipped: ${skip.reason}`, skip.hint)], skip.reason, base);

  const peak = new PeakLines(model, options);
  const { targets, skipped } = chooseTargets(model, options, inputs, peak);
  const render = new Renderer(model);
  const migrated = migrateStages(model, options, inputs, targets, render, peak);
  const edits = [...migrated.edits, ...rootForOtherStages(model, targets, render, peak)];
  const output = applyEdits(text, edits);
  const kept = [...skipped, ...migrated.findings].filter((f) => !ignoredByComment(model.lines, f)).sort((a, b) => a.line - b.line);
  if (output === text && migrated.leftUnchanged.length > 0) {
    return unchanged(text, kept, migrated.leftUnchanged.map((f) => f.message).join('; '), base);
  }
  return { output, changed: output !== text, edits, explanations: explainEdits(text, edits), findings: kept, base };
}

/** The image the final stage is built on, as the engine resolved it, for the fleet outputs. */
function finalBase(model: DockerfileModel): FinalBase {
  const base = stageBase(model, model.stages[model.stages.length - 1]);
  return { reference: base.reference, family: base.image.family };
}

/**
 * A disabled file is never migrated, so a text that does not parse is no error there; its base is still named
 * when the text parses that far.
 */
function disabledBase(text: string, inputs: EngineInputs): FinalBase | undefined {
  try {
    return finalBase(parseDockerfile(text, inputs));
  } catch {
    return undefined;
  }
}

interface Skip {
  rule: string;
  reason: string;
  hint?: string;
}

/** Why the whole file is left as it is, judged by its final stage: a base that cannot be known or that does not apply. */
function finalStageSkip(model: DockerfileModel, final: Stage, inputs: EngineInputs): Skip | undefined {
  if (inputs.containerAction) {
    const reason = 'a GitHub Docker container action (its action.yml runs this file): GitHub runs it as root, never on Peak';
    return { rule: 'container-action', reason };
  }
  const base = stageBase(model, final);
  if (base.unresolved) {
    const reason = `FROM ${final.from.getImage() ?? ''}: ${noValue(base.unresolved)}, so the base image (and how to create a user on it) cannot be known`;
    return { rule: 'unresolved-base', reason, hint: `${argHint(base.unresolved)}, or a default in an ARG before the first FROM` };
  }
  if (base.facts.os === 'windows') {
    return { rule: 'windows-base', reason: `Windows base image ${base.reference}: Linux user management does not apply` };
  }
  if (base.facts.devContainer) {
    return { rule: 'devcontainer-base', reason: `${base.reference} is a dev container image: an editor opens it, it is never deployed` };
  }
  if (isArtifactStage(model, final)) {
    const reason = `the final stage builds FROM scratch and has no CMD or ENTRYPOINT: it collects build output, it is not an image that runs`;
    return { rule: 'artifact-stage', reason };
  }
  return undefined;
}

/** `A, B have no value`: the FROM variables that left a base unknown. */
function noValue(names: readonly string[]): string {
  return `${names.join(', ')} ${names.length > 1 ? 'have' : 'has'} no value`;
}

/** `give a value with --arg A=<value> --arg B=<value>`. */
function argHint(names: readonly string[]): string {
  return `give a value with ${names.map((n) => `--arg ${n}=<value>`).join(' ')}`;
}

/** A stage on a Windows or unresolvable base is never migrated (it is left as it is). */
function migratable(model: DockerfileModel, stage: Stage): boolean {
  const base = stageBase(model, stage);
  return !base.unresolved && base.facts.os === 'linux';
}

/**
 * The stages this run migrates: every one it can with --all-stages, else those compose or bake build, else the final
 * one. With --all-stages, each stage left out is named with its reason.
 */
function chooseTargets(
  model: DockerfileModel,
  options: FixOptions,
  inputs: EngineInputs,
  peak: PeakLines,
): { targets: Set<Stage>; skipped: Finding[] } {
  const final = model.stages[model.stages.length - 1];
  if (!options.allStages) return { targets: new Set(builtStages(model, inputs) ?? [final]), skipped: [] };
  // A stage built on by a stage that creates the user itself stays as it is: creating the user there too would make
  // that stage's own useradd fail ("user 'peak-user' already exists").
  const createdBelow = stagesCreatingUserBelow(model, peak);
  const targets = new Set(model.stages.filter((s) => migratable(model, s) && !createdBelow.has(s)));
  // One policy for every stage: a stage that cannot be migrated is skipped with its reason, the rest migrated.
  const skipped = model.stages
    .filter((stage) => !targets.has(stage))
    .map((stage) => stageSkippedFinding(model, stage, createdBelow.get(stage), options, peak));
  return { targets, skipped };
}

/** Why --all-stages leaves a stage as it is: a stage built from it creates the user, or its base is unknown or Windows. */
function stageSkippedFinding(
  model: DockerfileModel,
  stage: Stage,
  child: Stage | undefined,
  options: FixOptions,
  peak: PeakLines,
): Finding {
  if (child && migratable(model, stage)) {
    const creates = lineOf(child.instructions.find((i) => peak.createsUser(i)) ?? child.from);
    const reason = `stage skipped: stage ${child.name ?? child.index} is built from it and creates ${options.user} itself (line ${creates}); creating the user here too would make that useradd fail`;
    return finding('child-creates-user', stage.from, reason, undefined, 'stage-skipped');
  }
  const base = stageBase(model, stage);
  if (base.unresolved) {
    const reason = `stage skipped: FROM ${stage.from.getImage() ?? ''}: ${noValue(base.unresolved)}, so its base image cannot be known`;
    return finding('unresolved-base', stage.from, reason, argHint(base.unresolved), 'stage-skipped');
  }
  const reason = `stage skipped: Windows base image ${base.reference}: Linux user management does not apply`;
  return finding('windows-base', stage.from, reason, undefined, 'stage-skipped');
}

interface Migration {
  edits: TextEdit[];
  findings: Finding[];
  /** The `stage-left-unchanged` findings of the stages left as they were. */
  leftUnchanged: Finding[];
}

/** Runs the transforms on each target stage, in file order. */
function migrateStages(
  model: DockerfileModel,
  options: FixOptions,
  inputs: EngineInputs,
  targets: ReadonlySet<Stage>,
  render: Renderer,
  peak: PeakLines,
): Migration {
  const migration: Migration = { edits: [], findings: [], leftUnchanged: [] };
  for (const stage of model.stages) {
    if (!targets.has(stage)) continue;
    const plan = planStage(model, stage, options, targets, inputs, peak);
    const baseFacts = baseFactsFinding(plan.base, stage);
    if (baseFacts) migration.findings.push(baseFacts);
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    for (const transform of transforms) {
      const result = transform.apply({ model, options, plan, render, inputs });
      edits.push(...result.edits);
      findings.push(...result.findings);
    }
    // A stage whose own findings say it cannot run as a non-root user is left as it was, with what a person must
    // change first: rewriting it gives an image that builds and then cannot start.
    const blocking = findings.filter((f) => blocksStage(f) && !ignoredByComment(model.lines, f));
    if (blocking.length > 0 && !options.force) {
      const left = leftUnchangedFinding(stage, blocking);
      migration.findings.push(...blocking, left);
      migration.leftUnchanged.push(left);
      continue;
    }
    migration.edits.push(...edits);
    migration.findings.push(...findings);
  }
  return migration;
}

/** The finding that says why a stage was left as it was, naming each blocking finding by rule and line. */
function leftUnchangedFinding(stage: Stage, blocking: Finding[]): Finding {
  const why = [...new Set(blocking.map((f) => `${f.rule} (line ${f.line})`))].join(', ');
  const which = stage.isFinal ? 'the final stage' : `stage ${stage.name ?? stage.index}`;
  return finding(
    'stage-left-unchanged',
    stage.from,
    `${which} was left unchanged: it cannot run as a non-root user as it is (${why})`,
    'change what those findings name, then run peak-fix again; --force rewrites it anyway',
  );
}

/**
 * Stages that a later stage is built from (directly or further down) where that later stage creates the user
 * itself, each with the first such stage; a stage whose own chain already creates the user is not among them
 * (nothing would be inserted there).
 */
function stagesCreatingUserBelow(model: DockerfileModel, peak: PeakLines): Map<Stage, Stage> {
  const creates = (s: Stage): boolean => s.instructions.some((i) => peak.createsUser(i));
  const below = new Map<Stage, Stage>();
  for (const stage of model.stages) {
    if (!creates(stage)) continue;
    // Up to the first stage that creates the user itself (it has its own walk) or that an earlier walk reached.
    for (let parent = stage.parent; parent && !creates(parent) && !below.has(parent); parent = parent.parent) {
      if (!createdByHandInChain(parent, peak)) below.set(parent, stage);
    }
  }
  return below;
}

/** A `FROM scratch` chain with no CMD or ENTRYPOINT cannot run: it exists to be copied from or exported. */
function isArtifactStage(model: DockerfileModel, stage: Stage): boolean {
  let root = stage;
  const chain = [stage];
  while (root.parent) {
    root = root.parent;
    chain.push(root);
  }
  if ((root.from.getImage() ?? '').toLowerCase() !== 'scratch') return false;
  return !chain.some((s) => s.instructions.some((i) => i.getKeyword() === 'CMD' || i.getKeyword() === 'ENTRYPOINT'));
}

/**
 * Facts that did not come from the built-in catalog (the organisation's catalog, the facts file, an inspection,
 * an image built by the same repository) are named at the FROM line, so a reviewer can trust or correct them.
 */
function baseFactsFinding(base: StageBase, stage: Stage): Finding | undefined {
  // The built-in catalog is cited in the README; a guess is reported as unknown-base.
  if (base.image.source.kind === 'built-in' || base.image.source.kind === 'guess') return undefined;
  const what = [
    `family ${base.image.family}`,
    `default user ${base.image.defaultUser ?? 'root'}`,
    ...(base.image.takenUids?.length ? [`UIDs taken ${base.image.takenUids.join(', ')}`] : []),
    ...(base.image.migrated ? ['already migrated'] : []),
  ];
  return finding('base-facts', stage.from, `facts about ${base.reference} from ${describeSource(base.image.source)}: ${what.join(', ')}`);
}

/**
 * The stages compose or bake build from this Dockerfile (EngineInputs.buildStages), when they name ones it has: the
 * images that run. Undefined: the final stage, as usual.
 */
function builtStages(model: DockerfileModel, inputs: EngineInputs): Stage[] | undefined {
  const names = new Set((inputs.buildStages ?? []).map((n) => n.toLowerCase()));
  const stages = model.stages.filter((s) => s.name !== null && names.has(s.name) && migratable(model, s));
  return stages.length > 0 ? stages : undefined;
}

/**
 * A stage this run does not migrate that starts where a migrated image ends would now run its steps as the UID: a
 * builder stage on a base image that was migrated itself, or a stage built FROM a stage this run migrates (compose
 * builds an earlier target). It goes back to the user it started as right after its FROM, as it ran before.
 */
function rootForOtherStages(model: DockerfileModel, targets: ReadonlySet<Stage>, render: Renderer, peak: PeakLines): TextEdit[] {
  return model.stages
    .filter((stage) => !targets.has(stage) && stage.instructions.length > 0 && stage.instructions[0].getKeyword() !== 'USER')
    .filter((stage) =>
      stage.parent === null
        ? stageBase(model, stage).image.migrated
        : targets.has(stage.parent) && !peak.isPeakUserValue(userBefore(model, stage, 0)),
    )
    .map((stage) => {
      const user = stage.parent === null ? null : userBefore(model, stage, 0);
      const value = isRootUser(user) ? '0' : (user as string);
      const why =
        stage.parent === null
          ? 'the base image was migrated and ends as the UID: this stage builds as root, as before'
          : `the stage it is built FROM now ends as the UID: this stage's own steps run as ${value}, as before`;
      return render.insertAfter(endOffset(model, stage.from), [because(instruction('USER', value), why)]);
    });
}

const IGNORE = /^\s*#\s*peak-fix-ignore\b(.*)$/;

/**
 * eslint-style `# peak-fix-ignore [RULE...]` in the comment lines right above an instruction silences its
 * findings (all of them when no rule is named).
 */
function ignoredByComment(lines: LineIndex, f: Finding): boolean {
  for (let line = f.line - 2; line >= 0; line--) {
    const content = lines.text.slice(lines.starts[line], lines.lineContentEnd(line)).replace(/^\uFEFF/, '');
    if (!/^\s*#/.test(content)) return false;
    const match = IGNORE.exec(content);
    if (match) {
      const rules = match[1].split(/[\s,]+/).filter(Boolean);
      if (rules.length === 0 || rules.includes(f.rule)) return true;
    }
  }
  return false;
}

function unchanged(text: string, findings: Finding[], skipped: string, base: FinalBase | undefined): FixResult {
  const result: FixResult = { output: text, changed: false, edits: [], explanations: [], findings, skipped };
  if (base) result.base = base;
  return result;
}
