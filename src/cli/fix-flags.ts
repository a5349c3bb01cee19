import type { Options, PositionalOptions } from 'yargs';
import type { Severity } from '../types.js';
import { oneLine, UsageError } from './command.js';

/** The default command's flags, read and checked. */
export interface Flags {
  paths: string[];
  write: boolean;
  check: boolean;
  listDifferent: boolean;
  stdin: boolean;
  stdinFilepath?: string;
  format: string;
  user?: string;
  home?: string;
  uidArg?: string;
  preset?: string;
  allStages?: boolean;
  force?: boolean;
  workdir?: string;
  config?: string | false;
  color?: boolean;
  verbose: boolean;
  debug: boolean;
  failOn?: Severity;
  listRules: boolean;
  explain?: string;
  /** `--explain` with files: the diff with the reason for each added line. */
  explainLines?: boolean;
  inspectImages: boolean;
  /** `--arg NAME=VALUE`: values for FROM variables. */
  buildArgs: Record<string, string>;
  prBody?: string;
  reportFile?: string;
  guideUrl?: string;
  /** Worker threads; undefined: one per core. */
  jobs?: number;
}

export const FIX_DESCRIPTION =
  "Rewrite Dockerfiles so the image runs as the Peak platform's non-root user.\n" +
  'By default nothing is written: a diff is printed for each file that would change.';

export const PATHS: PositionalOptions = {
  describe:
    'Files, directories (searched for Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile; .gitignore honoured) and globs. Default: the current directory',
  type: 'string',
  array: true,
};

const MODE: Record<string, Options> = {
  write: { alias: 'w', type: 'boolean', describe: 'Rewrite files in place and list them (exit 0)' },
  check: { alias: 'c', type: 'boolean', describe: 'List files that would change; exit 1 if any' },
  'list-different': { alias: 'l', type: 'boolean', describe: 'Print only the paths that would change; exit 1 if any' },
  stdin: { type: 'boolean', describe: 'Read one Dockerfile from stdin, print the result to stdout' },
  'stdin-filepath': { type: 'string', requiresArg: true, describe: 'Name shown for stdin (implies --stdin)' },
};

const MIGRATION: Record<string, Options> = {
  user: { type: 'string', requiresArg: true, describe: 'User to create [default: peak-user]' },
  home: { type: 'string', requiresArg: true, describe: 'Its home directory [default: /home/peak-user]' },
  'uid-arg': { type: 'string', requiresArg: true, describe: 'Build argument carrying the UID [default: PEAK_USER_ID]' },
  preset: {
    type: 'string',
    requiresArg: true,
    describe: "safe (keep behaviour) or peak-doc (the guide's lines verbatim) [default: safe]",
  },
  arg: {
    type: 'string',
    requiresArg: true,
    describe: 'NAME=VALUE: a value for a variable used in FROM (repeatable), like docker build --build-arg',
  },
  'all-stages': { type: 'boolean', describe: 'Migrate every stage, not only the final one' },
  force: {
    type: 'boolean',
    describe: 'Rewrite stages even where a finding says they cannot run as a non-root user (left unchanged and reported by default)',
  },
  'inspect-images': {
    type: 'boolean',
    describe: 'Inspect, with the local Docker engine, every base image no catalog or facts file knows, and add it to peak-fix-images.json',
  },
  workdir: {
    type: 'string',
    requiresArg: true,
    describe: 'Insert WORKDIR <home>: auto (when nothing relies on the inherited one), always, never [default: auto]',
  },
};

const CONFIG: Record<string, Options> = {
  config: {
    type: 'string',
    describe: 'Config file to use (default: .peak-fix.json or package.json "peak-fix", searched upwards); --no-config: none',
  },
};

const OUTPUT: Record<string, Options> = {
  format: { type: 'string', requiresArg: true, describe: 'text, json or sarif (SARIF 2.1.0 for code scanning) [default: text]' },
  'fail-on': {
    type: 'string',
    requiresArg: true,
    describe: 'Exit 1 when a finding has this severity or a higher one: warning or error',
  },
  color: {
    type: 'boolean',
    describe: 'Colour the output (default: when stdout is a terminal and NO_COLOR is unset); --no-color: never',
  },
  verbose: { type: 'boolean', describe: 'Also list unchanged files and informational findings' },
  debug: { type: 'boolean', describe: 'Like --verbose, and print stack traces' },
};

const FLEET: Record<string, Options> = {
  'pr-body': {
    type: 'string',
    requiresArg: true,
    describe: "Write this repository's pull-request description (Markdown) to FILE ({repository} in FILE: owner/name)",
  },
  'report-file': {
    type: 'string',
    requiresArg: true,
    describe:
      'Append one JSON line for this run to FILE, for peak-fix report (repository: runner variables, PEAK_FIX_REPOSITORY, git remote)',
  },
  'guide-url': {
    type: 'string',
    requiresArg: true,
    describe: "Link to Peak's guide in the pull-request text [default: $PEAK_FIX_GUIDE_URL]",
  },
};

const RULES: Record<string, Options> = {
  'list-rules': { type: 'boolean', describe: 'List the rules that report findings, with their severity' },
  explain: {
    type: 'string',
    describe:
      'With a rule: what it means, with a before/after example. With files (or none): the diff, each added line with why it is there',
  },
};

const PERFORMANCE: Record<string, Options> = {
  jobs: {
    alias: 'j',
    type: 'string',
    requiresArg: true,
    describe: 'Worker threads for big batches (output order is unchanged) [default: the number of cores]',
  },
};

/** The flags by group, in the order --help lists them. */
const GROUPS: Record<string, Record<string, Options>> = {
  'Mode:': MODE,
  'Migration:': MIGRATION,
  'Config:': CONFIG,
  'Output:': OUTPUT,
  'Fleet:': FLEET,
  'Rules:': RULES,
  'Performance:': PERFORMANCE,
};

/** Every flag, with its group. */
export const FIX_OPTIONS: Record<string, Options> = Object.fromEntries(
  Object.entries(GROUPS).flatMap(([group, options]) => Object.entries(options).map(([name, option]) => [name, { ...option, group }])),
);

export const FIX_EXAMPLES: readonly (readonly [string, string])[] = [
  ['$0', 'Show the diff for every Dockerfile under the current directory'],
  ['$0 --write .', 'Rewrite them in place'],
  ['$0 --check services/', 'CI: exit 1 if a Dockerfile would change'],
  ["$0 --list-different '**/*.Dockerfile'", 'Print the paths that would change (-l)'],
  ['$0 --stdin --stdin-filepath Dockerfile < Dockerfile', 'Editor integration: stdin to stdout'],
  ['$0 --format json > peak-fix.json', 'Machine-readable report'],
  ['$0 --format sarif > peak-fix.sarif', 'Findings for code scanning (SARIF 2.1.0)'],
  ['$0 --check --fail-on warning .', 'CI: also fail on warnings (e.g. a port below 1024)'],
  ['$0 --write --pr-body /tmp/pr.md --report-file /tmp/results.jsonl', 'Fleet runner script: migrate, describe, record'],
  ['$0 report results.jsonl --html report.html --failed again.txt', 'The fleet report (see peak-fix report --help)'],
  ['$0 --list-rules', 'The rules and their severities'],
  ['$0 --explain privilege-drop', 'What a rule means, with a before/after example'],
  ['$0 --explain Dockerfile', 'The diff, each line peak-fix adds with the reason it is there'],
  ['$0 verify my-image:1.0 --uid 1001', 'Check a built image runs as UID 1001 with a writable home'],
  ['$0 inspect registry.corp/platform/python:3.11', 'Read an internal base image into peak-fix-images.json'],
  ['$0 --inspect-images --write .', 'Inspect unknown base images on the fly, then rewrite'],
  ['$0 --user app --home /home/app --uid-arg APP_UID Dockerfile', 'Another user name, home and UID argument'],
  ['$0 --preset peak-doc --all-stages --workdir never Dockerfile', "The guide's lines, in every stage, no WORKDIR"],
  ['$0 --config ci/peak-fix.json --no-color', 'Options from a given file, no colours'],
  ['$0 --color | less -R', 'Colours even through a pipe'],
  ['$0 --no-config --verbose --debug Dockerfile', 'Ignore config files; say everything, with stack traces'],
];

export const FIX_EPILOG =
  'Config: {"user", "home", "uidArg", "preset", "allStages", "workdir", "force", "images"} in .peak-fix.json or package.json "peak-fix"; flags win.\n' +
  'Base images: images built here (compose, bake) > peak-fix-images.json (peak-fix inspect) > config "images" > built-in table.\n' +
  'Silence one finding with a `# peak-fix-ignore RULE` comment above the instruction; `# peak-fix-disable` in the first lines leaves a file alone.\n' +
  'Verify a built image: peak-fix verify IMAGE --uid N [--home DIR] [--dir DIR...] [--serve PORT] (see peak-fix verify --help).\n' +
  'Fleet runners: DRY_RUN=true with REPOSITORY (multi-gitter) or XARGS_DRY_RUN=true (git-xargs) turn --write into a dry run.\n' +
  'Exit codes: 0 ok (also after --write), 1 --check/--list-different found changes or --fail-on matched, 2 usage error, a file could not be processed or a path matched no file, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP.';

/** A parse failure of the default command: yargs' message, with where to look; an error it caught, as it says. */
export function failFlags(message: string | undefined, error: Error | undefined): Error {
  if (error) return error instanceof UsageError ? error : new UsageError(oneLine(error.message));
  return new UsageError(`${oneLine(message ?? 'invalid arguments')} (see peak-fix --help)`);
}

/** The parsed arguments as flags: each checked for its form, then the combinations. */
export function readFlags(args: Record<string, unknown>): Flags {
  const strings = stringReader(args);
  const rest = [...((args.paths as unknown[] | undefined) ?? []), ...((args._ as unknown[] | undefined) ?? [])].map(String);
  const stdinFilepath = strings('stdin-filepath');
  const config = args.config === false ? false : strings('config');
  const flags: Flags = {
    paths: rest,
    write: args.write === true,
    check: args.check === true,
    listDifferent: args['list-different'] === true,
    stdin: args.stdin === true || stdinFilepath !== undefined,
    stdinFilepath,
    format: strings('format') ?? 'text',
    user: strings('user'),
    home: strings('home'),
    uidArg: strings('uid-arg'),
    preset: strings('preset'),
    allStages: args['all-stages'] as boolean | undefined,
    force: args.force as boolean | undefined,
    workdir: strings('workdir'),
    config,
    color: args.color as boolean | undefined,
    verbose: args.verbose === true,
    debug: args.debug === true,
    failOn: severityFlag(strings('fail-on')),
    listRules: args['list-rules'] === true,
    explain: args.explain === undefined ? undefined : Array.isArray(args.explain) ? strings('explain') : String(args.explain),
    inspectImages: args['inspect-images'] === true,
    buildArgs: buildArgsFlag(args.arg),
    prBody: strings('pr-body'),
    reportFile: strings('report-file'),
    guideUrl: strings('guide-url'),
    jobs: jobsFlag(strings('jobs')),
  };
  checkCombinations(flags);
  return flags;
}

/** Reads a flag that takes one value: given once, not empty. */
function stringReader(args: Record<string, unknown>): (name: string) => string | undefined {
  return (name) => {
    const value = args[name];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw new UsageError(`--${name} given more than once`);
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs a value`);
    return value;
  };
}

function checkCombinations(flags: Flags): void {
  const modes = [flags.write && '--write', flags.check && '--check', flags.listDifferent && '--list-different'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be used together`);
  if (flags.stdin && modes.length > 0) throw new UsageError(`--stdin cannot be used with ${modes[0]}`);
  if (flags.stdin && flags.paths.length > 0) throw new UsageError('--stdin reads one Dockerfile from stdin: give no paths');
  if (flags.stdin && (flags.prBody || flags.reportFile))
    throw new UsageError('--pr-body and --report-file describe a repository: not with --stdin');
}

/** `--arg NAME=VALUE`, repeatable: the variables a FROM may use. */
function buildArgsFlag(value: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  for (const item of list) {
    const text = String(item);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
    if (!match) throw new UsageError(`invalid --arg ${JSON.stringify(text)}: use NAME=VALUE`);
    values[match[1]] = match[2];
  }
  return values;
}

function severityFlag(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if (value !== 'warning' && value !== 'error') throw new UsageError(`invalid --fail-on ${JSON.stringify(value)}: use warning or error`);
  return value;
}

function jobsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`invalid --jobs ${JSON.stringify(value)}: use a whole number from 1 to 9999`);
  return Number(value);
}
