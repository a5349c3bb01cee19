import path from 'node:path';
import yargs from 'yargs';
import { familyOf } from '../facts/image.js';
import { ConfigError, loadConfig } from '../gather/config.js';
import type { DockerEngine } from '../gather/docker-engine.js';
import { factsFilePath, readFactsFile, writeFactsFile } from '../gather/facts-file.js';
import { engineVersion, inspectImage, InspectError, type InspectedImage } from '../gather/inspect.js';
import { validateOptions } from '../options.js';

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

/**
 * `peak-fix inspect IMAGE...`: reads each image's facts from the local engine and adds them to the facts file.
 * Exit 0 when every image was inspected, 1 when some could not be (the others are still written), 2 on usage
 * errors or when no engine answers.
 */
export async function runInspectCommand(argv: readonly string[], io: InspectCommandIO): Promise<number> {
  let help = '';
  const args = (await yargs()
    .scriptName('peak-fix inspect')
    .locale('en')
    .usage(
      '$0 IMAGE...\n\nReads from the local Docker engine what the rewrite needs to know about base images (OS, shell, how a user is created, ' +
        'default user, UIDs taken) and writes it to peak-fix-images.json beside the config file (or in the current directory), keyed by ' +
        'repository, tag and digest. One throw-away container per image, with networking off; an image without a shell is read from a ' +
        'created, never started, container. Nothing is pulled unless --pull is given.',
    )
    .command('$0 <images..>', false, (y) => y.positional('images', { type: 'string', array: true, describe: 'Images to inspect' }))
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false, 'camel-case-expansion': false })
    .options({
      pull: { type: 'boolean', describe: 'Pull an image that is not on the engine (never done otherwise)' },
      config: {
        type: 'string',
        describe: 'Config file (its directory holds the facts file; its user and uidArg tell a migrated image); --no-config: none',
      },
    })
    .example('$0 registry.corp/platform/python:3.11', 'Inspect one internal base image')
    .example('$0 corp/base:1 corp/slim:2 --pull', 'Pull the images first if they are missing')
    .epilog('Exit codes: 0 every image inspected, 1 some could not be (the others are written), 2 usage error or no Docker engine.')
    .help('help')
    .alias('help', 'h')
    .version(false)
    .strict()
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new ConfigError(`inspect: ${(error?.message ?? message ?? 'invalid arguments').split('\n')[0]} (see peak-fix inspect --help)`);
    })
    .parseAsync([...argv], {}, (_error: Error | undefined, _argv: unknown, output: string) => {
      help = output;
    })) as Record<string, unknown>;
  if (args.help) {
    io.out(help.endsWith('\n') ? help : help + '\n');
    return 0;
  }
  const config = args.config === false ? { options: {} } : await loadConfig(io.cwd, args.config as string | undefined);
  const options = validateOptions(config.options);
  const file = factsFilePath(io.cwd, config.file);
  const images = ((args.images as unknown[] | undefined) ?? []).map(String);

  let engine: string;
  try {
    engine = await engineVersion(io.docker);
  } catch (error) {
    if (error instanceof InspectError) {
      io.err(`peak-fix: inspect: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const added: InspectedImage[] = [];
  let failed = 0;
  for (const reference of images) {
    try {
      const image = await inspectImage(io.docker, reference, {
        pull: args.pull === true,
        engine,
        user: options.user,
        uidArg: options.uidArg,
        now: io.now,
      });
      added.push(image);
      io.out(`${describeInspected(image)}\n`);
    } catch (error) {
      if (!(error instanceof InspectError)) throw error;
      failed++;
      io.err(`peak-fix: inspect: ${error.message}\n`);
    }
  }
  if (added.length > 0) {
    await writeFactsFile(file, await readFactsFile(file), added);
    io.out(`facts written to ${path.relative(io.cwd, file) || file} (engine ${engine})\n`);
  }
  return failed > 0 ? 1 : 0;
}
