import type { Explanation, TextEdit } from './edits.js';
import type { Family } from './facts/image.js';
import type { FactsLookup } from './facts/types.js';

export type Preset = 'safe' | 'peak-doc';
export type WorkdirMode = 'auto' | 'always' | 'never';
export type Severity = 'error' | 'warning' | 'info';

export interface FixOptions {
  /** Name of the user to create (Peak's guide: `peak-user`). */
  user: string;
  /** Its home directory (Peak's guide: `/home/peak-user`). */
  home: string;
  /** Build argument that carries the UID (Peak's guide: `PEAK_USER_ID`). */
  uidArg: string;
  /** `safe` adapts the recipe so behaviour is kept; `peak-doc` emits the guide's lines verbatim. */
  preset: Preset;
  /** Migrate every stage, not only the final one. */
  allStages: boolean;
  /** Insert `WORKDIR <home>`: `auto` only where no relative path depends on the inherited directory. */
  workdir: WorkdirMode;
  /**
   * Rewrite a stage even where a finding says it cannot run as a non-root user (a root-only start, a container
   * engine, root's home); by default such a stage is left as it is and reported as needing a person.
   */
  force: boolean;
}

export const DEFAULT_OPTIONS: FixOptions = Object.freeze({
  user: 'peak-user',
  home: '/home/peak-user',
  uidArg: 'PEAK_USER_ID',
  preset: 'safe',
  allStages: false,
  workdir: 'auto',
  force: false,
});

export interface Finding {
  /** Stable id of the rule that produced it, e.g. `workdir-kept`. */
  rule: string;
  /** Which of the rule's messages, as eslint's messageId (the rule id where a rule has one message). */
  messageId: string;
  severity: Severity;
  /** 1-based line in the original file. */
  line: number;
  message: string;
  hint?: string;
  /**
   * The line of a build-context file the finding is really about (an entrypoint script, a copied server
   * configuration), path relative to the Dockerfile's directory; `line` stays the Dockerfile instruction that
   * brings it in, so `# peak-fix-ignore` above that instruction still applies.
   */
  context?: { file: string; line: number };
}

export interface FixResult {
  output: string;
  changed: boolean;
  edits: TextEdit[];
  /** Why each inserted instruction (and each added flag) is there, by line of `output` (`--explain`). */
  explanations: Explanation[];
  findings: Finding[];
  /** Set when the file was deliberately left alone; the reason says why. */
  skipped?: string;
  /** The final stage's base image, as the engine resolved it; absent when a disabled file does not parse. */
  base?: FinalBase;
}

/**
 * The image the final stage is built on (ARG values substituted, `FROM <stage>` followed) and its family, from the
 * facts the engine was given: what the fleet outputs name for each file.
 */
export interface FinalBase {
  reference: string;
  /** How a user is created on it (`debian`, `alpine`, `distroless`, ...); `unknown` when nothing knows the image. */
  family: Family;
}

/** Input that cannot be migrated: the message names the reason in one line. */
export class PeakFixError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'PeakFixError';
  }
}

/**
 * What the CLI/runner gathered for the engine, so the engine itself never does I/O: facts about base images
 * (organisation catalog and facts file first; the built-in catalog is the engine's own fallback) and files of
 * the build context the Dockerfile copies in (a server's configuration, an entrypoint script), keyed by the
 * path relative to the Dockerfile's directory.
 */
export interface EngineInputs {
  facts?: FactsLookup;
  contextFiles?: ReadonlyMap<string, string>;
  /**
   * Directories of the build context the Dockerfile copies onto `/` or directly below it (and the context itself,
   * `.`), keyed by the path relative to the Dockerfile's directory: their entries, directories ending in `/`. They
   * tell a root file system (`etc/`, `usr/`...) or a directory from a single file.
   */
  contextDirs?: ReadonlyMap<string, readonly string[]>;
  /**
   * Other images of the run are built FROM the image this Dockerfile builds (compose, bake): declare only
   * `ARG <uidArg>`, never `ENV <uidArg>=...`, since an ENV baked into a base beats every child's build argument.
   */
  buildsBaseImage?: boolean;
  /** Values for the variables of FROM lines (`--arg NAME=VALUE`); they win over the file's ARG defaults. */
  buildArgs?: Readonly<Record<string, string>>;
  /**
   * The build stages the repository's compose and bake files build from this Dockerfile (`build.target`), when
   * every build of it names one: those stages are the images that run, so they are the ones migrated, not the final.
   */
  buildStages?: readonly string[];
  /**
   * The Dockerfile is a GitHub Docker container action's (an action.yml runs it): GitHub runs those as root ("Docker
   * actions must be run by the default Docker user (root)"), so it is skipped.
   */
  containerAction?: boolean;
}
