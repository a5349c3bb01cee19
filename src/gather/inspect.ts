import type { DockerEngine, DockerResult } from './docker-engine.js';
import { importCommonJs } from '../lazy-import.js';
import type { ImageFacts, UserCreation } from '../facts/types.js';
import { referenceKey } from '../facts/reference.js';

/**
 * `peak-fix inspect`: reads from the local Docker engine what the rewrite needs to know about a base image.
 * `docker image inspect` gives the OS, Config.User, Env and WorkingDir; one throw-away container (no network,
 * never a pull, run as root) prints /etc/passwd, /etc/group and which user tools exist. An image without a shell
 * is read from a created, never started, container with `docker cp`. All Docker I/O goes through `DockerEngine`.
 */

export type InspectFailure = 'no-engine' | 'image-missing' | 'engine-error';

export class InspectError extends Error {
  constructor(
    readonly kind: InspectFailure,
    message: string,
  ) {
    super(message);
    this.name = 'InspectError';
  }
}

/** One inspected image, as it is stored in the facts file. */
export interface InspectedImage {
  /** The reference that was asked for. */
  reference: string;
  repository: string;
  tag: string;
  /** The registry digest (`sha256:…`) when the image came from a registry, else its image ID. */
  digest: string;
  /** The engine's image ID. */
  id: string;
  /** Server version of the engine that read it. */
  engine: string;
  /** When it was read (ISO 8601). */
  inspected: string;
  facts: ImageFacts;
}

export interface InspectOptions {
  /** Pull the image when it is not present locally (never done otherwise). */
  pull?: boolean;
  /** The Peak user and UID argument: an image whose default user is that user (or that UID) was migrated. */
  user: string;
  uidArg: string;
  /** The engine's version, when already asked (engineVersion). */
  engine?: string;
  now?: () => Date;
}

/** The engine's server version; throws InspectError('no-engine') when no engine answers. */
export async function engineVersion(docker: DockerEngine): Promise<string> {
  const r = await docker(['version', '--format', '{{.Server.Version}}']);
  if (r.missing) throw new InspectError('no-engine', 'no Docker engine: the docker command was not found');
  const version = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || version === '')
    throw new InspectError('no-engine', `no Docker engine answers: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  return version;
}

interface ImageJson {
  Id?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Os?: string;
  Config?: { User?: string; Env?: string[] | null; WorkingDir?: string } | null;
}

export async function inspectImage(docker: DockerEngine, reference: string, options: InspectOptions): Promise<InspectedImage> {
  const engine = options.engine ?? (await engineVersion(docker));
  let image = await imageJson(docker, reference);
  if (!image && options.pull) {
    const pulled = await docker(['pull', reference]);
    if (pulled.code !== 0) throw new InspectError('image-missing', `cannot pull ${reference}: ${firstLine(pulled.stderr)}`);
    image = await imageJson(docker, reference);
  }
  if (!image)
    throw new InspectError('image-missing', `image ${reference} is not on this engine (peak-fix never pulls unless --pull is given)`);
  const id = image.Id ?? '';
  const repoDigest = (image.RepoDigests ?? []).map((d) => d.slice(d.indexOf('@') + 1)).find((d) => d.startsWith('sha256:'));
  const digest = repoDigest ?? id;
  const { repository, tag } = referenceKey(
    reference.includes('@') || /^sha256:|^[0-9a-f]{12,64}$/.test(reference) ? (image.RepoTags?.[0] ?? reference) : reference,
  );
  const config = image.Config ?? {};
  const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));

  let files: ImageFiles;
  if ((image.Os ?? 'linux').toLowerCase() === 'windows') {
    files = { shell: false, tools: new Set() };
  } else {
    files = (await probeWithShell(docker, id)) ?? (await readWithoutStarting(docker, id));
  }
  const facts = toFacts(image, files, env, options);
  facts.source = { kind: 'inspected', ref: digest };
  return { reference, repository, tag, digest, id, engine, inspected: (options.now ?? (() => new Date()))().toISOString(), facts };
}

async function imageJson(docker: DockerEngine, reference: string): Promise<ImageJson | undefined> {
  const r = await docker(['image', 'inspect', '--format', '{{json .}}', reference]);
  if (r.missing) throw new InspectError('no-engine', 'no Docker engine: the docker command was not found');
  if (r.code !== 0) {
    if (/no such (image|object)/i.test(r.stderr)) return undefined;
    throw new InspectError('engine-error', `docker image inspect ${reference} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  try {
    return JSON.parse(r.stdout.toString('utf8')) as ImageJson;
  } catch {
    throw new InspectError('engine-error', `docker image inspect ${reference} printed no JSON`);
  }
}

/** What the image's files say. */
interface ImageFiles {
  shell: boolean;
  passwd?: string;
  group?: string;
  /** `useradd`, `usermod`, `busybox-adduser` */
  tools: Set<string>;
}

const MARK = 'peak-fix-probe';
const PROBE = [
  `echo ${MARK}`,
  `if [ -r /etc/passwd ]; then echo '${MARK} passwd'; cat /etc/passwd; echo; fi`,
  `if [ -r /etc/group ]; then echo '${MARK} group'; cat /etc/group; echo; fi`,
  `echo '${MARK} tools'`,
  'command -v useradd >/dev/null 2>&1 && echo useradd',
  'command -v usermod >/dev/null 2>&1 && echo usermod',
  'command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -qx adduser && echo busybox-adduser',
  'true',
].join('\n');

/** One throw-away container: no network, never a pull, root so every file is readable. undefined: no shell ran. */
async function probeWithShell(docker: DockerEngine, id: string): Promise<ImageFiles | undefined> {
  const r = await docker(['run', '--rm', '--network=none', '--pull=never', '--user', '0', '--entrypoint', '/bin/sh', id, '-c', PROBE]);
  const out = r.stdout.toString('utf8');
  if (!out.startsWith(MARK)) return undefined;
  if (r.code !== 0)
    throw new InspectError('engine-error', `the probe container of ${id} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  const sections = new Map<string, string[]>();
  let current = '';
  for (const line of out.split('\n').slice(1)) {
    if (line.startsWith(`${MARK} `)) {
      current = line.slice(MARK.length + 1).trim();
      sections.set(current, []);
    } else if (current && line.trim() !== '') {
      sections.get(current)?.push(line);
    }
  }
  return {
    shell: true,
    passwd: sections.has('passwd') ? (sections.get('passwd') ?? []).join('\n') : undefined,
    group: sections.has('group') ? (sections.get('group') ?? []).join('\n') : undefined,
    tools: new Set(sections.get('tools') ?? []),
  };
}

/** No shell: a created, never started, container whose files are copied out with `docker cp`. */
async function readWithoutStarting(docker: DockerEngine, id: string): Promise<ImageFiles> {
  // The command is never run; it only lets `docker create` accept an image that has no CMD.
  const created = await docker(['create', '--network=none', '--pull=never', id, 'peak-fix-never-started']);
  if (created.code !== 0)
    throw new InspectError('engine-error', `docker create ${id} failed: ${firstLine(created.stderr) || `exit ${created.code}`}`);
  const container = created.stdout.toString('utf8').trim();
  try {
    const shell = await copyOut(docker, container, '/bin/sh');
    if (shell !== undefined) {
      throw new InspectError('engine-error', `${id} has /bin/sh but it could not be run (another architecture?)`);
    }
    return {
      shell: false,
      passwd: await copyOut(docker, container, '/etc/passwd'),
      group: await copyOut(docker, container, '/etc/group'),
      tools: new Set(),
    };
  } finally {
    await docker(['rm', '-f', container]);
  }
}

/** A file's text via `docker cp CONTAINER:PATH -` (a tar stream); undefined when the image has no such file. */
async function copyOut(docker: DockerEngine, container: string, path: string): Promise<string | undefined> {
  const r: DockerResult = await docker(['cp', `${container}:${path}`, '-']);
  if (r.code !== 0) {
    if (/could not find the file|no such file/i.test(r.stderr)) return undefined;
    throw new InspectError('engine-error', `docker cp ${path} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  return firstTarEntry(r.stdout);
}

async function firstTarEntry(tar: Buffer): Promise<string> {
  // Only images without a shell are read this way: tar-stream (and streamx under it) loads on demand.
  const { extract } = await importCommonJs(() => import('tar-stream'));
  return new Promise((resolve, reject) => {
    const parser = extract();
    let text: string | undefined;
    parser.on('entry', (_header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        text ??= Buffer.concat(chunks).toString('utf8');
        next();
      });
      stream.resume();
    });
    parser.on('finish', () => resolve(text ?? ''));
    parser.on('error', reject);
    parser.end(tar);
  });
}

interface PasswdEntry {
  name: string;
  uid: number;
  home: string;
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of (text ?? '').split(/\r?\n/)) {
    const fields = line.split(':');
    if (fields.length < 7 || !/^\d+$/.test(fields[2])) continue;
    entries.push({ name: fields[0], uid: Number(fields[2]), home: fields[5] });
  }
  return entries;
}

/** UIDs from here up are the range a PEAK_USER_ID is chosen from; below are the distribution's system users. */
const FIRST_USER_UID = 1000;
/** nobody / nogroup */
const OVERFLOW_UID = 65534;

function toFacts(image: ImageJson, files: ImageFiles, env: Map<string, string>, options: InspectOptions): ImageFacts {
  const windows = (image.Os ?? 'linux').toLowerCase() === 'windows';
  const passwd = parsePasswd(files.passwd);
  let userCreation: UserCreation;
  if (!files.shell) userCreation = 'none';
  else if (files.tools.has('useradd')) userCreation = 'useradd';
  else if (files.tools.has('busybox-adduser')) userCreation = 'busybox';
  else userCreation = 'passwd-file';

  const facts: ImageFacts = {
    os: windows ? 'windows' : 'linux',
    shell: files.shell,
    userCreation,
    takenUids: [...new Set(passwd.map((e) => e.uid).filter((uid) => uid >= FIRST_USER_UID && uid < OVERFLOW_UID))].sort((a, b) => a - b),
    takenNames: passwd.map((e) => e.name),
    known: true,
    source: { kind: 'inspected', ref: '' },
  };
  const configured = (image.Config?.User ?? '').split(':')[0].trim();
  if (configured !== '' && configured !== 'root' && configured !== '0' && !windows) {
    const numeric = /^\d+$/.test(configured);
    const entry = numeric ? passwd.find((e) => e.uid === Number(configured)) : passwd.find((e) => e.name === configured);
    facts.defaultUser = numeric
      ? { uid: Number(configured), ...(entry ? { name: entry.name } : {}) }
      : { name: configured, ...(entry ? { uid: entry.uid } : {}) };
    if (entry && entry.home && entry.home !== '/') facts.home = entry.home;
    // Migrated by peak-fix (or by hand to Peak's guide): it runs as the Peak user, or as the UID its build argument gave.
    const uid = facts.defaultUser.uid;
    if (facts.defaultUser.name === options.user || (uid !== undefined && env.get(options.uidArg) === String(uid))) facts.migrated = true;
  }
  return facts;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
