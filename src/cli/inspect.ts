import path from 'node:path';
import { familyOf } from '../facts/image.js';
import { loadConfig } from '../gather/config.js';
import type { DockerEngine } from '../gather/docker-engine.js';
import { factsFilePath, readFactsFile, writeFactsFile } from '../gather/facts-file.js';
import { engineVersion, inspectImage, InspectError, type InspectedImage } from '../gather/inspect.js';
import { validateOptions } from '../options.js';
import { failure, seeHelp, UsageError, type CommandDefinition } from './command.js';

export interface InspectCommandIO {
  cwd: string;
  docker: DockerEngine;
  out: (text: string) => void;
  err: (text: string) => void;
  now?: () => Date;
}

/** One line per image: what the rewrite will use. */
export function describeInspected(image: InspectedImage): string {
  const f = image.facts;
  const user = f.defaultUser ? [f.defaultUser.name, f.defaultUser.uid].filter((v) => v !== undefined).join(' ') : 'root';
  const parts = [
    f.os,
    f.shell ? 'shell' : 'no shell',
    `user creation ${f.userCreation} (family ${familyOf(f)})`,
    `default user ${user}`,
    ...(f.takenUids.length ? [`UIDs taken ${f.takenUids.join(', ')}`] : []),
    ...(f.home ? [`home ${f.home}`] : []),
    ...(f.migrated ? ['already migrated'] : []),
  ];
  return `${image.reference} ${image.digest.slice(0, 19)}…: ${parts.join(', ')}`;
}

interface InspectArgs {
  images: string[];
  pull: boolean;
  /** The config file given; false: --no-config. */
  config: string | false | undefined;
}

/**
 * `peak-fix inspect IMAGE...`: reads each image's facts from the local engine and adds them to the facts file.
 * Exit 0 when every image was inspected, 1 when some could not be (the others are still written), 2 on usage
 * errors or when no engine answers.
 */
export const inspectCommand: CommandDefinition<InspectArgs> = {
  name: 'inspect',
  usage:
    '$0 IMAGE...\n\nReads from the local Docker engine what the rewrite needs to know about base images (OS, shell, how a user is created, ' +
    'default user, UIDs taken) and writes it to peak-fix-images.json beside the config file (or in the current directory), keyed by ' +
    'repository, tag and digest. One throw-away container per image, with networking off; an image without a shell is read from a ' +
    'created, never started, container. Nothing is pulled unless --pull is given.',
  command: '$0 <images..>',
  describe: false,
  builder: (y) => y.positional('images', { type: 'string', array: true, describe: 'Images to inspect' }),
  options: {
    pull: { type: 'boolean', describe: 'Pull an image that is not on the engine (never done otherwise)' },
    config: {
      type: 'string',
      describe: 'Config file (its directory holds the facts file; its user and uidArg tell a migrated image); --no-config: none',
    },
  },
  examples: [
    ['$0 registry.corp/platform/python:3.11', 'Inspect one internal base image'],
    ['$0 corp/base:1 corp/slim:2 --pull', 'Pull the images first if they are missing'],
  ],
  epilog: 'Exit codes: 0 every image inspected, 1 some could not be (the others are written), 2 usage error or no Docker engine.',
  // yargs' first line as yargs says it (verify and the default command lower-case it).
  fail: (message, error) => new UsageError(seeHelp('inspect', failure(message, error).split('\n')[0])),
  read: (args) => ({
    images: ((args.images as unknown[] | undefined) ?? []).map(String),
    pull: args.pull === true,
    config: args.config as string | false | undefined,
  }),
  handler: runInspectCommand,
};

export async function runInspectCommand(args: InspectArgs, io: InspectCommandIO): Promise<number> {
  const config = args.config === false ? { options: {} } : await loadConfig(io.cwd, args.config);
  const { user, uidArg } = validateOptions(config.options);
  const file = factsFilePath(io.cwd, config.file);
  const engine = await askEngine(io, () => engineVersion(io.docker));
  if (engine === undefined) return 2;
  const added: InspectedImage[] = [];
  for (const reference of args.images) {
    const image = await askEngine(io, () => inspectImage(io.docker, reference, { pull: args.pull, engine, user, uidArg, now: io.now }));
    if (image) {
      added.push(image);
      io.out(`${describeInspected(image)}\n`);
    }
  }
  if (added.length > 0) {
    await writeFactsFile(file, await readFactsFile(file), added);
    io.out(`facts written to ${path.relative(io.cwd, file) || file} (engine ${engine})\n`);
  }
  return added.length < args.images.length ? 1 : 0;
}

/** What the engine answers; undefined, said on stderr, when it cannot (no engine, an image it cannot read). */
async function askEngine<T>(io: InspectCommandIO, ask: () => Promise<T>): Promise<T | undefined> {
  try {
    return await ask();
  } catch (error) {
    if (!(error instanceof InspectError)) throw error;
    io.err(`peak-fix: inspect: ${error.message}\n`);
    return undefined;
  }
}
