import type { VerifyOptions } from '../runner/verify.js';
import { EXIT, failure, oneLine, seeHelp, UsageError, type CommandDefinition, type CommandIO } from './command.js';

/** `peak-fix verify IMAGE --uid N`: checks a built image the way Peak runs it. Exit 0 when every check passes, 1 when one fails. */
export const verifyCommand: CommandDefinition<VerifyOptions> = {
  name: 'verify',
  usage:
    '$0 IMAGE --uid N\n\nChecks a built image: Config.User is the UID, `id -u` in a throw-away container (networking off, never pulls) prints it, ' +
    "HOME is the user's home and writable, and so is every --dir. It catches a base image whose ENV PEAK_USER_ID overrides the build argument. " +
    'With --serve PORT it also starts the image as the UID, waits for the port inside the container, fetches /, checks that PID 1 runs as the UID and reports start-up errors from the logs; the container is always removed.',
  command: '$0 <image>',
  describe: false,
  builder: (y) => y.positional('image', { type: 'string', describe: 'The image to check' }),
  options: {
    uid: { type: 'string', demandOption: true, requiresArg: true, describe: 'The UID the image was built with (PEAK_USER_ID)' },
    home: { type: 'string', requiresArg: true, default: '/home/peak-user', describe: 'The HOME the process must have' },
    dir: {
      type: 'string',
      array: true,
      requiresArg: true,
      describe: 'Another directory the process must be able to write to (repeatable)',
    },
    serve: {
      type: 'string',
      requiresArg: true,
      describe: 'Start the image as the UID (no network), wait for this port inside it, fetch /, check PID 1 runs as the UID',
    },
    timeout: { type: 'string', requiresArg: true, describe: 'Seconds to wait for the --serve port [default: 30]' },
  },
  examples: [
    ['$0 registry.example.com/team/app:1.4 --uid 1001', 'Check an image built with --build-arg PEAK_USER_ID=1001'],
    ['$0 app:dev --uid 1001 --dir /app --dir /data', 'Also check that /app and /data are writable'],
    ['$0 web:dev --uid 1001 --serve 8080', 'Also start it as 1001 and check that it serves / on port 8080'],
  ],
  epilog: 'Exit codes: 0 every check passed, 1 a check failed, 2 usage error.',
  fail: (message, error) => new UsageError(seeHelp('verify', oneLine(failure(message, error)))),
  read: (args) => ({
    image: String(args.image),
    uid: String(args.uid),
    home: String(args.home),
    dirs: ((args.dir as unknown[] | undefined) ?? []).map(String),
    serve: numberFlag(args, 'serve', 1, 65535),
    timeout: numberFlag(args, 'timeout', 1, 3600),
  }),
  handler: runVerify,
};

/** A whole number in a range, or undefined when the flag is not given. */
function numberFlag(args: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  if (args[name] === undefined) return undefined;
  const value = String(args[name]);
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new UsageError(`verify: --${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function runVerify(args: VerifyOptions, { out, err }: CommandIO): Promise<number> {
  const { verifyImage } = await import('../runner/verify.js');
  const result = verifyImage(args);
  for (const check of result.checks) (check.ok ? out : err)(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
  if (result.checks.some((c) => c.name === 'arguments')) return EXIT.ERROR;
  return result.ok ? EXIT.OK : EXIT.CHANGES;
}
