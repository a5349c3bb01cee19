import { spawnSync } from 'node:child_process';
import { isPlainAbsolute } from './model/dirs.js';

/**
 * Checks a built image the way Peak will run it: the configured user, the UID a real process gets, and a
 * writable home. Containers run with networking off and never pull, so nothing leaves the machine.
 */
export interface VerifyOptions {
  image: string;
  /** The UID the image was built for (the PEAK_USER_ID build argument). */
  uid: string;
  /** Expected HOME of the process. */
  home: string;
  /** More directories the process must be able to write to. */
  dirs?: string[];
  /** The docker executable. */
  docker?: string;
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  checks: VerifyCheck[];
}

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(dockerBin: string, args: string[]): Exec {
  const r = spawnSync(dockerBin, args, { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { code: -1, stdout: '', stderr: r.error.message };
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export function verifyImage(options: VerifyOptions): VerifyResult {
  const dockerBin = options.docker ?? 'docker';
  // The paths go into a shell line inside the container: only plain absolute paths are accepted.
  const unsafe = [options.home, ...(options.dirs ?? [])].find((d) => !isPlainAbsolute(d));
  if (unsafe !== undefined)
    return { ok: false, checks: [{ name: 'arguments', ok: false, detail: `not a plain absolute path: ${JSON.stringify(unsafe)}` }] };
  if (!/^\d+$/.test(options.uid))
    return { ok: false, checks: [{ name: 'arguments', ok: false, detail: `--uid must be a number, got ${JSON.stringify(options.uid)}` }] };
  const checks: VerifyCheck[] = [];
  const runArgs = (entrypoint: string, ...args: string[]) => [
    'run',
    '--rm',
    '--network=none',
    '--pull=never',
    '--entrypoint',
    entrypoint,
    options.image,
    ...args,
  ];

  const inspect = exec(dockerBin, ['image', 'inspect', '-f', '{{.Config.User}}', options.image]);
  if (inspect.code !== 0) {
    return { ok: false, checks: [{ name: 'image', ok: false, detail: `cannot inspect ${options.image}: ${firstLine(inspect.stderr)}` }] };
  }
  const configured = inspect.stdout.trim();
  const configuredUser = configured.split(':')[0];
  checks.push({
    name: 'config user',
    ok: configuredUser === options.uid,
    detail:
      configuredUser === options.uid
        ? `Config.User is ${configured}`
        : `Config.User is ${configured === '' ? 'empty (root)' : JSON.stringify(configured)}, expected ${options.uid}` +
          (configured !== '' ? ' (a base image ENV of the same name overrides the build argument)' : ''),
  });

  const id = exec(dockerBin, runArgs('id', '-u'));
  const actual = id.stdout.trim();
  checks.push({
    name: 'process uid',
    ok: id.code === 0 && actual === options.uid,
    detail:
      id.code !== 0
        ? `could not run id in the image: ${firstLine(id.stderr)}`
        : `id -u prints ${actual}${actual === options.uid ? '' : `, expected ${options.uid}`}`,
  });

  const probe = '.peak-fix-verify';
  const script = [
    'printf "%s\\n" "$HOME"',
    ...[options.home, ...(options.dirs ?? [])].map((d) => `touch '${d}/${probe}' && rm -f '${d}/${probe}' || echo "not writable: ${d}"`),
  ].join('; ');
  const home = exec(dockerBin, runArgs('sh', '-c', script));
  if (home.code !== 0) {
    checks.push({ name: 'home', ok: false, detail: `could not run sh in the image: ${firstLine(home.stderr)}` });
  } else {
    const [reportedHome, ...problems] = home.stdout.trim().split('\n');
    checks.push({
      name: 'home',
      ok: reportedHome === options.home,
      detail: reportedHome === options.home ? `HOME is ${reportedHome}` : `HOME is ${reportedHome || '(unset)'}, expected ${options.home}`,
    });
    const unwritable = problems.filter((p) => p.startsWith('not writable: '));
    checks.push({
      name: 'writable',
      ok: unwritable.length === 0,
      detail: unwritable.length === 0 ? `writable: ${[options.home, ...(options.dirs ?? [])].join(', ')}` : unwritable.join('; '),
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}
