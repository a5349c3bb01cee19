import { spawnSync } from 'node:child_process';
import { isPlainAbsolute } from '../facts/paths.js';

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
  /** Start the image as the UID and check that it serves on this port (inside the container, no network). */
  serve?: number;
  /** Seconds to wait for the port (default 30). */
  timeout?: number;
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
  const invalid = argumentProblem(options);
  if (invalid !== undefined) return { ok: false, checks: [{ name: 'arguments', ok: false, detail: invalid }] };
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
  const checks: VerifyCheck[] = [configUserCheck(inspect.stdout.trim(), options.uid)];
  checks.push(processUidCheck(exec(dockerBin, runArgs('id', '-u')), options.uid));
  const dirs = [options.home, ...(options.dirs ?? [])];
  checks.push(...homeChecks(exec(dockerBin, runArgs('sh', '-c', writableScript(dirs))), options.home, dirs));
  if (options.serve !== undefined) checks.push(...serveChecks(dockerBin, options.image, options.uid, options.serve, options.timeout ?? 30));
  return { ok: checks.every((c) => c.ok), checks };
}

/** Why the arguments cannot be used, or undefined. */
function argumentProblem(options: VerifyOptions): string | undefined {
  // The paths go into a shell line inside the container: only plain absolute paths are accepted.
  const unsafe = [options.home, ...(options.dirs ?? [])].find((d) => !isPlainAbsolute(d));
  if (unsafe !== undefined) return `not a plain absolute path: ${JSON.stringify(unsafe)}`;
  if (!/^\d+$/.test(options.uid)) return `--uid must be a number, got ${JSON.stringify(options.uid)}`;
  return undefined;
}

/** The image's Config.User names the UID. */
function configUserCheck(configured: string, uid: string): VerifyCheck {
  const configuredUser = configured.split(':')[0];
  return {
    name: 'config user',
    ok: configuredUser === uid,
    detail:
      configuredUser === uid
        ? `Config.User is ${configured}`
        : `Config.User is ${configured === '' ? 'empty (root)' : JSON.stringify(configured)}, expected ${uid}` +
          (configured !== '' ? ' (a base image ENV of the same name overrides the build argument)' : ''),
  };
}

/** A process of the image (`id -u`) runs as the UID. */
function processUidCheck(id: Exec, uid: string): VerifyCheck {
  const actual = id.stdout.trim();
  return {
    name: 'process uid',
    ok: id.code === 0 && actual === uid,
    detail:
      id.code !== 0
        ? `could not run id in the image: ${firstLine(id.stderr)}`
        : `id -u prints ${actual}${actual === uid ? '' : `, expected ${uid}`}`,
  };
}

/** Prints HOME, then `not writable: DIR` for each directory a file cannot be made in. */
function writableScript(dirs: string[]): string {
  const probe = '.peak-fix-verify';
  const writable = dirs.map((d) => `touch '${d}/${probe}' && rm -f '${d}/${probe}' || echo "not writable: ${d}"`);
  return ['printf "%s\\n" "$HOME"', ...writable].join('; ');
}

/** HOME is the expected home, and the process can write to it and to the other directories. */
function homeChecks(run: Exec, home: string, dirs: string[]): VerifyCheck[] {
  if (run.code !== 0) return [{ name: 'home', ok: false, detail: `could not run sh in the image: ${firstLine(run.stderr)}` }];
  const [reportedHome, ...problems] = run.stdout.trim().split('\n');
  const unwritable = problems.filter((p) => p.startsWith('not writable: '));
  return [
    {
      name: 'home',
      ok: reportedHome === home,
      detail: reportedHome === home ? `HOME is ${reportedHome}` : `HOME is ${reportedHome || '(unset)'}, expected ${home}`,
    },
    {
      name: 'writable',
      ok: unwritable.length === 0,
      detail: unwritable.length === 0 ? `writable: ${dirs.join(', ')}` : unwritable.join('; '),
    },
  ];
}

/** Log lines that say a server could not start or do its work as the UID. */
const STARTUP_ERROR =
  /permission denied|operation not permitted|\[emerg\]|\bfatal\b|can't open|cannot open|could not open|read-only file system/i;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** `LISTEN` sockets in /proc/net/tcp{,6} format: is `port` among them? */
export function listensOn(procNetTcp: string, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return procNetTcp.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields.length > 3 && fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A';
  });
}

/** The real UID on the `Uid:` line of a /proc/PID/status. */
export function statusUid(status: string): string | undefined {
  return /^Uid:\s+(\d+)/m.exec(status)?.[1];
}

/**
 * Fetches `/` from inside the container with what the image has: curl, wget, bash's /dev/tcp, or nc.
 * Prints the response (headers first); exit 97 when the image has none of them.
 */
function fetchScript(port: number): string {
  const url = `http://127.0.0.1:${port}/`;
  // HTTP/1.0 needs no Host line; without one, non-HTTP servers (redis) answer the line instead of dropping the connection.
  const request = `printf "GET / HTTP/1.0\\r\\n\\r\\n"`;
  return [
    `if command -v curl >/dev/null 2>&1; then curl -sS -i --http0.9 --max-time 5 ${url}`,
    `elif command -v wget >/dev/null 2>&1; then wget -S -q -O - -T 5 ${url} 2>&1`,
    `elif command -v bash >/dev/null 2>&1; then bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && ${request} >&3 && timeout 3 cat <&3'`,
    `elif command -v nc >/dev/null 2>&1; then ${request} | nc -w 5 127.0.0.1 ${port}`,
    `else echo 'no curl, wget, bash or nc in the image to fetch /'; exit 97; fi`,
  ].join('; ');
}

/** The first line of a response, and its HTTP status when it is HTTP (wget -S indents its header lines). */
export function describeResponse(text: string): { first: string; status?: number } {
  const first =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(first)?.[1];
  return status ? { first, status: Number(status) } : { first };
}

/**
 * Starts the image as the UID with no network, waits for the port inside the container, fetches `/`, reads
 * PID 1's UID from /proc/1/status and the start-up errors from the logs; the container is always removed.
 */
function serveChecks(dockerBin: string, image: string, uid: string, port: number, timeoutSeconds: number): VerifyCheck[] {
  const started = exec(dockerBin, ['run', '-d', '--network=none', '--pull=never', '--user', uid, image]);
  const container = started.stdout.trim();
  if (started.code !== 0 || container === '') {
    return [{ name: 'start', ok: false, detail: `docker run failed: ${firstLine(started.stderr)}` }];
  }
  try {
    const docker = (...args: string[]): Exec => exec(dockerBin, args);
    const { running, listening, canReadProc } = waitForPort(docker, container, port, timeoutSeconds);
    const logs = docker('logs', '--tail', '40', container);
    const logText = (logs.stdout + logs.stderr).trim();
    const errors = logText.split('\n').filter((l) => STARTUP_ERROR.test(l));
    if (!running) return [exitedCheck(docker, container, uid, logText)];
    const checks: VerifyCheck[] = [
      {
        name: 'start',
        ok: listening,
        detail: listening
          ? `running as --user ${uid}, ${canReadProc ? `listening on ${port}` : 'port not checked (no cat in the image)'}`
          : `nothing listens on port ${port} after ${timeoutSeconds} s${errors.length > 0 ? `: ${errors.join(' | ')}` : ''}`,
      },
      pid1Check(docker('exec', container, 'cat', '/proc/1/status'), uid),
    ];
    if (listening) checks.push(serveCheck(docker('exec', container, 'sh', '-c', fetchScript(port)), port));
    checks.push({
      name: 'logs',
      ok: errors.length === 0,
      detail: errors.length === 0 ? 'no start-up errors in the logs' : errors.slice(0, 5).join(' | '),
    });
    return checks;
  } finally {
    exec(dockerBin, ['rm', '-f', '-v', container]);
  }
}

type Docker = (...args: string[]) => Exec;

/**
 * Waits until the port listens in the container, the container stops, or the time is up. An image without `cat`
 * cannot show its sockets: it counts as listening (`canReadProc` false).
 */
function waitForPort(
  docker: Docker,
  container: string,
  port: number,
  timeoutSeconds: number,
): { running: boolean; listening: boolean; canReadProc: boolean } {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let canReadProc = true;
  while (Date.now() < deadline) {
    const state = docker('inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', container).stdout.trim();
    if (!state.startsWith('true')) return { running: false, listening: false, canReadProc };
    const net = docker('exec', container, 'cat', '/proc/net/tcp', '/proc/net/tcp6');
    // An image without cat cannot show its sockets; a container that just stopped cannot either (checked next round).
    if (net.code !== 0 && !net.stdout && /executable file not found|no such file or directory/i.test(net.stderr)) canReadProc = false;
    if (listensOn(net.stdout, port) || !canReadProc) return { running: true, listening: true, canReadProc };
    sleep(250);
  }
  return { running: true, listening: false, canReadProc };
}

/** The container stopped: its exit code and what its logs say. */
function exitedCheck(docker: Docker, container: string, uid: string, logText: string): VerifyCheck {
  const code = docker('inspect', '-f', '{{.State.ExitCode}}', container).stdout.trim();
  // The error lines, and the last lines, which carry the program's own last words (redis: the config line it refused).
  const lines = logText.split('\n');
  const shown = lines.filter((l, i) => l.trim() !== '' && (STARTUP_ERROR.test(l) || i >= lines.length - 4));
  return { name: 'start', ok: false, detail: `the container exited (code ${code}) as UID ${uid}: ${shown.join(' | ')}` };
}

/** PID 1 runs as the UID, read from /proc/1/status. */
function pid1Check(status: Exec, uid: string): VerifyCheck {
  const pid1 = statusUid(status.stdout);
  return {
    name: 'pid 1 uid',
    ok: pid1 === uid,
    detail:
      pid1 === undefined
        ? `cannot read /proc/1/status: ${firstLine(status.stderr)}`
        : `PID 1 runs as ${pid1}${pid1 === uid ? '' : `, expected ${uid}`}`,
  };
}

/** `GET /` answered, and not with a server error (exit 97: the image has nothing to fetch with). */
function serveCheck(fetched: Exec, port: number): VerifyCheck {
  const response = describeResponse(fetched.stdout);
  const answered = response.first !== '' && fetched.code !== 97 && (response.status === undefined || response.status < 500);
  return {
    name: 'serve',
    ok: answered,
    detail:
      fetched.code === 97
        ? fetched.stdout.trim()
        : response.first === ''
          ? `GET / on port ${port} got no answer: ${firstLine(fetched.stderr) || `exit ${fetched.code}`}`
          : `GET / on port ${port} answered: ${response.first}${response.status === undefined ? ' (not HTTP)' : ''}`,
  };
}
