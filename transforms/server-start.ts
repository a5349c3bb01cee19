import type { Instruction } from 'dockerfile-ast';
import { copiedBy, copiedFiles, type CopiedFile } from '../src/model/context.js';
import { argumentsOf, argumentsText, foldedText, type DockerfileModel } from '../src/model/dockerfile.js';
import { stageServer, type StageServer } from '../src/model/server.js';
import { readServerConfig, STARTED_SERVERS, volumeHolding } from '../src/facts/servers.js';
import { writableDirs } from '../src/model/dirs.js';
import { classifyPath } from '../src/facts/paths.js';
import { stageScope } from '../src/model/scope.js';
import { finding, type Transform, type TransformContext } from '../src/rewrite/transform.js';
import { envPortFindings, serverPortFindings } from './privileged-port.js';
import type { Finding } from '../src/types.js';

/**
 * What ownership cannot fix: a start that needs root (an init system, sshd, cron, an entrypoint script that
 * switches user or chowns), a container engine or Docker-socket client, a tun device or raw sockets, a root-only
 * directive in a copied server configuration, a port below 1024 set by the environment or the server's own
 * configuration, and run-time paths inside a VOLUME of the base image. Report only: each finding says what a
 * person must do, at the CMD/ENTRYPOINT (or ENV, COPY, FROM) line it comes from.
 */

interface StartRule {
  pattern: RegExp;
  what: string;
  hint: string;
}

/** A program's name as a word of the start, alone or at the end of a path: `supervisord`, `"/usr/sbin/sshd"`. */
function programWord(names: string): RegExp {
  return new RegExp(`(?:^|[\\s"'/[,])(?:${names})(?=$|[\\s"',\\]])`);
}

/** Programs that, started as PID 1 or by the entrypoint, need root. */
const ROOT_START: StartRule[] = [
  {
    pattern: programWord('supervisord'),
    what: 'supervisord',
    hint: 'run one process per container as the UID; if supervisord must stay, remove every `user=` line and its `[unix_http_server]` socket from root-owned directories and point logfile/pidfile at the home',
  },
  {
    pattern: /(?:^|[\s"'[,])\/init(?=$|[\s"',\]])/,
    what: "s6-overlay's /init",
    hint: 's6-overlay v3 starts as a non-root user only with a writable /run and no service that needs root (no s6-setuidgid, no fix-attrs); otherwise start the service directly with CMD',
  },
  {
    pattern: programWord('sshd'),
    what: 'sshd',
    hint: 'sshd needs root to switch to the logging-in user; use `docker exec` (or kubectl exec) instead of an ssh server in the image',
  },
  {
    pattern: programWord('cron|crond|anacron'),
    what: 'cron',
    hint: "cron needs root to run jobs as their users; use supercronic (runs as any user) or the platform's scheduled jobs",
  },
];

/** Container engines and Docker-socket clients: they need root, privileges or the host's Docker socket. */
const CONTAINER_ENGINES: StartRule[] = [
  {
    pattern: /\bkaniko\b|\/kaniko\/executor\b/,
    what: 'kaniko',
    hint: 'kaniko unpacks images as root by design; build images in the CI system, not in a Peak container',
  },
  {
    pattern: /\bbuildah\b/,
    what: 'buildah',
    hint: 'rootless buildah needs subuid/subgid ranges and user namespaces the platform may not grant; build images in CI',
  },
  {
    pattern: /\bdockerd\b|\bdind\b|dockerd-entrypoint/,
    what: 'Docker in Docker',
    hint: 'dockerd needs --privileged and root; build or run containers outside the Peak container',
  },
  {
    pattern: /\bpodman\b/,
    what: 'podman',
    hint: 'rootless podman needs subuid/subgid ranges and user namespaces; build or run containers outside the Peak container',
  },
  {
    pattern: /\bportainer\b/,
    what: 'portainer',
    hint: 'portainer talks to the Docker socket, which only root (or the docker group) can open',
  },
  {
    pattern: /\bdocker-gen\b/,
    what: 'docker-gen',
    hint: 'docker-gen reads the Docker socket, which only root (or the docker group) can open',
  },
  {
    pattern: /\/var\/run\/docker\.sock\b|\/run\/docker\.sock\b/,
    what: 'the Docker socket',
    hint: 'the socket belongs to root (or the docker group) on the host; a UID outside that group cannot open it',
  },
];

/** Programs that need a tun device or raw sockets (CAP_NET_ADMIN / CAP_NET_RAW). */
const RAW_NETWORK: StartRule[] = [
  {
    pattern: /\bopenvpn\b/,
    what: 'openvpn',
    hint: 'openvpn needs /dev/net/tun and CAP_NET_ADMIN; run the VPN outside the container or as a sidecar the platform allows',
  },
  {
    pattern: /\btailscaled\b(?![^\n]*--tun[= ]userspace-networking)/,
    what: 'tailscaled',
    hint: 'start tailscaled with --tun=userspace-networking (and a --statedir the user owns): it then needs no tun device and no root',
  },
  {
    pattern: /\bmasscan\b|\bnmap\b|\bzmap\b/,
    what: 'a raw-socket scanner',
    hint: 'raw packets need CAP_NET_RAW, which a non-root process does not have; use a connect scan (nmap -sT) or grant the capability',
  },
  {
    pattern: /\bwg-quick\b|\bwireguard\b/,
    what: 'WireGuard',
    hint: 'wg-quick needs CAP_NET_ADMIN; use a userspace implementation (wireguard-go with userspace networking) or run it outside',
  },
];

/** The hint of the rule about `what` in `rules`. */
function hintFor(rules: StartRule[], what: string): string {
  const rule = rules.find((r) => r.what === what);
  if (!rule) throw new Error(`no start rule for ${what}`);
  return rule.hint;
}

/** Base images that are container engines or need raw network access whatever the command. */
const BASE_IMAGES: { pattern: RegExp; rule: 'container-engine' | 'raw-network'; what: string; hint: string }[] = [
  {
    pattern: /^(?:docker\.io\/)?(?:library\/)?docker:.*dind/,
    rule: 'container-engine',
    what: 'Docker in Docker',
    hint: hintFor(CONTAINER_ENGINES, 'Docker in Docker'),
  },
  { pattern: /^gcr\.io\/kaniko-project\/executor/, rule: 'container-engine', what: 'kaniko', hint: hintFor(CONTAINER_ENGINES, 'kaniko') },
  {
    pattern: /^quay\.io\/(?:buildah|containers)\/buildah/,
    rule: 'container-engine',
    what: 'buildah',
    hint: hintFor(CONTAINER_ENGINES, 'buildah'),
  },
  { pattern: /^(?:docker\.io\/)?portainer\//, rule: 'container-engine', what: 'portainer', hint: hintFor(CONTAINER_ENGINES, 'portainer') },
  {
    pattern: /^(?:docker\.io\/)?(?:jwilder|nginxproxy)\/(?:docker-gen|nginx-proxy)/,
    rule: 'container-engine',
    what: 'docker-gen',
    hint: hintFor(CONTAINER_ENGINES, 'docker-gen'),
  },
  { pattern: /^(?:docker\.io\/)?tailscale\/tailscale/, rule: 'raw-network', what: 'tailscaled', hint: hintFor(RAW_NETWORK, 'tailscaled') },
  { pattern: /^(?:docker\.io\/)?kylemanna\/openvpn/, rule: 'raw-network', what: 'openvpn', hint: hintFor(RAW_NETWORK, 'openvpn') },
];

/** Lines of an entrypoint script that need root. */
const SCRIPT_ROOT: StartRule[] = [
  {
    pattern: /(?:^|[\s;&|(`])(gosu|su-exec|setpriv|runuser|chroot\s+--userspec|su)\s/,
    what: 'switches user with $1',
    hint: 'drop the switch and run the command itself (`exec "$@"`): the container already starts as PEAK_USER_ID',
  },
  {
    pattern: /(?:^|[\s;&|(`])(chown|chgrp)\s/,
    what: 'changes owners with $1',
    hint: 'drop it: make those directories in a RUN (mkdir) so the closing step gives them to the user at build time; or guard it with `if [ "$(id -u)" = 0 ]` as the official images do',
  },
  {
    pattern: /(?:^|[\s;&|(`])(supervisord|sshd|cron|crond|service\s+\S+\s+start|\/init)(?=$|[\s;&|)])/,
    what: 'starts $1',
    hint: 'start the service directly as the container command, one per container; an init system or service manager needs root',
  },
  {
    pattern: /(?:^|[\s;&|(`])(apt-get|apt|apk|yum|dnf|microdnf)\s+(install|add|update)\b/,
    what: 'installs packages with $1',
    hint: 'install the packages at build time in a RUN',
  },
  {
    pattern: /(?:^|[\s;&|(`])(sysctl\s+-w|mount\s)/,
    what: 'changes the kernel or mounts ($1)',
    hint: 'set it on the platform (pod securityContext sysctls, volumes) instead of in the entrypoint',
  },
];

/** The first rule of SCRIPT_ROOT a line of a script matches. */
function rootStep(line: string): { rule: StartRule; match: RegExpExecArray } | null {
  for (const rule of SCRIPT_ROOT) {
    const match = rule.pattern.exec(line);
    if (match) return { rule, match };
  }
  return null;
}

/** A script that checks who it runs as before the root steps (the official images' pattern) is fine as non-root. */
const CHECKS_ROOT = /\$\(id\s+-u\)|`id\s+-u`|\$\{?EUID\b|\$\{?UID\b|id\s+-u\s*\)?\s*"?\s*(?:=|-eq|!=|-ne)/;

/** What a start that runs a rule's program needs, by the rule's kind. */
const START_KINDS: {
  rule: 'root-start' | 'container-engine' | 'raw-network';
  rules: StartRule[];
  says: (keyword: string, what: string) => string;
}[] = [
  { rule: 'root-start', rules: ROOT_START, says: (keyword, what) => `${keyword} starts ${what}, which needs root` },
  {
    rule: 'container-engine',
    rules: CONTAINER_ENGINES,
    says: (keyword, what) => `${keyword} runs ${what}, which needs root or the host's Docker socket`,
  },
  { rule: 'raw-network', rules: RAW_NETWORK, says: (keyword, what) => `${keyword} runs ${what}, which needs a tun device or raw sockets` },
];

export const serverStart: Transform = {
  id: 'server-start',
  summary: 'Reports starts that need root, container engines, raw network access, root-only server settings and low ports.',
  apply({ model, plan, inputs }) {
    const { stage } = plan;
    const starts = stage.instructions.filter((i) => ['CMD', 'ENTRYPOINT'].includes(i.getKeyword()));
    // The build-context files the stage copies in: the scripts the start runs, a started server's configuration.
    const copied = copiedFiles(model, stage, inputs.contextFiles);
    const server = stageServer(model, stage, plan.base.reference, inputs);
    const findings = [
      ...baseImageFindings(plan),
      ...starts.flatMap((start) => startFindings(model, plan, start)),
      ...starts.flatMap((start) =>
        scriptsRun(model, start, copied).flatMap((script) => [
          ...scriptFindings(start, script),
          ...scriptWriteFindings(plan, start, script),
        ]),
      ),
      ...envPortFindings(stage),
      ...startWritesFindings(model, plan, starts),
      ...(server ? serverFindings(model, stage.from, stage.instructions, server) : startedServerFindings(model, plan, starts, copied)),
    ];
    return { edits: [], findings };
  },
};

/** A base image that is a container engine or needs raw network access whatever the command. */
function baseImageFindings(plan: TransformContext['plan']): Finding[] {
  const reference = plan.base.reference.toLowerCase();
  return BASE_IMAGES.filter((base) => base.pattern.test(reference)).map((base) =>
    finding(base.rule, plan.stage.from, `${plan.base.reference} runs ${base.what}, which a non-root UID cannot start`, base.hint),
  );
}

/** What the CMD/ENTRYPOINT runs itself, less a base image's own program (reported once, at FROM). */
function startFindings(model: DockerfileModel, plan: TransformContext['plan'], start: Instruction): Finding[] {
  const text = argumentsText(model, start);
  const reference = plan.base.reference.toLowerCase();
  const isTheBase = (rule: StartRule) => BASE_IMAGES.some((b) => b.what === rule.what && b.pattern.test(reference));
  return START_KINDS.flatMap((kind) =>
    kind.rules
      .filter((rule) => rule.pattern.test(text) && !isTheBase(rule))
      .map((rule) => finding(kind.rule, start, kind.says(start.getKeyword(), rule.what), rule.hint)),
  );
}

/** The lines of a script before it checks who it runs as (what comes after is for root only). */
function unguardedLines(script: Script): string[] {
  const lines = script.text.split(/\r\n|\r|\n/);
  const guardedFrom = lines.findIndex((l) => CHECKS_ROOT.test(l));
  return guardedFrom >= 0 ? lines.slice(0, guardedFrom) : lines;
}

/** A path written there needs a tree peak-fix never gives away: not the application's, not writable by anyone. */
function refusedWrite(path: string, home: string): boolean {
  return !WRITABLE_BY_ANYONE.test(path) && classifyPath(path, home) !== 'app';
}

/** Each line of a script the start runs that needs root, unless the script checks who it runs as before it. */
function scriptFindings(start: Instruction, script: Script): Finding[] {
  return unguardedLines(script).flatMap((raw, index) => {
    const hit = rootStep(raw.replace(/(^|\s)#.*$/, ''));
    if (!hit) return [];
    return [
      {
        ...finding(
          'root-start',
          start,
          `${start.getKeyword()} runs ${script.file}, whose line ${index + 1} ${hit.rule.what.replace('$1', hit.match[1].trim())} (\`${raw.trim()}\`): that needs root`,
          hit.rule.hint,
        ),
        context: { file: script.file, line: index + 1 },
      },
    ];
  });
}

/** `dockerize -template SRC:DEST`: the file dockerize renders at start. */
const DOCKERIZE_TEMPLATE = /\bdockerize\b[^\n]*?-template[=\s]+["']?[^\s:"']+:(\/[A-Za-z0-9_.@+\/-]*)/g;

/**
 * A script the start runs writes a file in a tree peak-fix never gives away (`dockerize -template …:/etc/temporal/
 * config/docker.yaml`, `envsubst < t > /etc/app.conf`): as the Peak user it fails at start. The first such line of
 * the script that it always runs (at its top level: not indented into a branch or a function, as minio's deprecated
 * user switch is), unless the script checks who it runs as before it.
 */
function scriptWriteFindings(plan: TransformContext['plan'], start: Instruction, script: Script): Finding[] {
  const { options } = plan.peak;
  for (const [index, raw] of unguardedLines(script).entries()) {
    if (/^\s/.test(raw)) continue;
    const line = raw.replace(/(^|\s)#.*$/, '');
    const written = [...line.matchAll(ABSOLUTE_REDIRECT), ...line.matchAll(DOCKERIZE_TEMPLATE)]
      .map((m) => m[1])
      .find((path) => refusedWrite(path, options.home));
    if (written === undefined) continue;
    return [
      {
        ...finding(
          'start-writes-system-path',
          start,
          `${start.getKeyword()} runs ${script.file}, whose line ${index + 1} writes ${written}, which ${options.user} is never given: it fails at start as $${options.uidArg}`,
          `write the file under /tmp or a directory of the application's, and point the program at it`,
        ),
        context: { file: script.file, line: index + 1 },
      },
    ];
  }
  return [];
}

/** A shell redirection to a relative file name: `> app.yaml`, `>>log.txt` (not `2>&1`, not `> /dev/null`). */
const RELATIVE_REDIRECT = /(?:^|[^<>&\d])>>?\s*["']?([A-Za-z0-9_.][A-Za-z0-9_.-]*)/;

/**
 * The container command writes a file relative to where it starts, and that working directory is one the user is
 * never given (another user's home, root's, a system directory): it fails at start.
 */
function startWritesFindings(model: DockerfileModel, plan: TransformContext['plan'], starts: Instruction[]): Finding[] {
  return [...startWritesCwd(model, plan, starts), ...startWritesSystemPath(model, plan, starts)];
}

/** A shell redirection to an absolute path: `> /etc/nginx/nginx.conf`, `>>/var/log/app.log`. */
const ABSOLUTE_REDIRECT = /(?:^|[^<>&\d])>>?\s*["']?(\/[A-Za-z0-9_.@+\/-]*)/g;

/** Where any user may write, or that is no file: a redirection there needs nothing. */
const WRITABLE_BY_ANYONE = /^\/(dev|proc\/self|tmp|var\/tmp)(\/|$)/;

/**
 * The container command writes a file in a tree peak-fix never gives away (`envsubst … > /etc/nginx/nginx.conf`,
 * where the base gave /etc/nginx to its own user): as the Peak user it fails at start.
 */
function startWritesSystemPath(model: DockerfileModel, plan: TransformContext['plan'], starts: Instruction[]): Finding[] {
  const { options } = plan.peak;
  return starts.flatMap((start) => {
    const text = argumentsText(model, start);
    const refused = [...text.matchAll(ABSOLUTE_REDIRECT)].map((m) => m[1]).filter((path) => refusedWrite(path, options.home));
    return refused.slice(0, 1).map((path) => {
      const kind = classifyPath(path, options.home);
      const whose = kind === 'other-home' ? "another user's home" : kind === 'root-home' ? "root's home" : 'a system path';
      return finding(
        'start-writes-system-path',
        start,
        `${start.getKeyword()} writes ${path}, in ${whose}, which ${options.user} is never given: it fails at start as $${options.uidArg}`,
        `write the file under /tmp or a directory of the application's, and point the program at it`,
      );
    });
  });
}

function startWritesCwd(model: DockerfileModel, plan: TransformContext['plan'], starts: Instruction[]): Finding[] {
  const cwd = stageScope(model, plan.stage).finalWorkdir;
  if (cwd === null) return [];
  const kind = classifyPath(cwd, plan.peak.options.home);
  if (kind === 'app') return [];
  const whose = kind === 'other-home' ? "another user's home" : kind === 'root-home' ? "root's home" : 'a system directory';
  return starts.flatMap((start) => {
    const match = RELATIVE_REDIRECT.exec(argumentsText(model, start));
    if (!match) return [];
    return [
      finding(
        'start-writes-cwd',
        start,
        `${start.getKeyword()} writes ${match[1]} into its working directory ${cwd}, ${whose}, which ${plan.peak.options.user} is not given: it fails at start as $${plan.peak.options.uidArg}`,
        'set WORKDIR to a directory of the application (the closing step gives it to the user), or write the file to /tmp',
      ),
    ];
  });
}

/**
 * A server the stage installs itself and starts by name, with a configuration copied in: each directory that
 * configuration points it at must be one the Dockerfile makes (the closing step gives those to the user). One made by
 * the package belongs to the package's user, and the server exits at start.
 */
function startedServerFindings(
  model: DockerfileModel,
  plan: TransformContext['plan'],
  starts: Instruction[],
  copied: ReadonlyMap<string, CopiedFile>,
): Finding[] {
  const text = starts.map((i) => foldedText(model, i)).join('\n');
  const started = STARTED_SERVERS.find((s) => s.command.test(text));
  if (!started || copied.size === 0) return [];
  const files = new Map([...copied].map(([imagePath, c]) => [imagePath, { text: c.text, file: c.file }]));
  const configured = readServerConfig(started.server, files);
  const made = writableDirs(model, plan.stage, plan.peak, plan.peak.options.home);
  const madeHere = new Set([...made.dirs, ...made.refused].map((d) => d.path));
  return configured.paths
    .filter((p) => p.kind === 'dir' && !madeHere.has(p.path))
    .map((p) => {
      const [file, line] = p.source.split(':');
      return {
        ...finding(
          'server-config-dir',
          copiedBy(copied, file, plan.stage.from),
          `${p.source.split(': ')[0]} points ${started.server.program} at ${p.path}, which this Dockerfile does not make: a directory a package made there belongs to the package's user, so ${started.server.program} cannot write it as $${plan.peak.options.uidArg} and exits at start`,
          `point it at a directory of the application's and make it in a RUN (mkdir -p): the closing step gives it to ${plan.peak.options.user}`,
        ),
        context: { file, line: Number(line) },
      };
    });
}

/** What a server the base image runs needs that ownership cannot fix. */
function serverFindings(model: DockerfileModel, from: Instruction, instructions: Instruction[], server: StageServer): Finding[] {
  return [
    ...serverUserLineFindings(from, server),
    ...serverPortFindings(model, from, instructions, server),
    ...serverVolumeFindings(from, server),
  ];
}

/** A directive of the copied configuration that only applies to a root start (`user nginx;`). */
function serverUserLineFindings(from: Instruction, server: StageServer): Finding[] {
  return server.configured.userDirectives.map((directive) => ({
    ...finding(
      'server-user-line',
      copiedBy(server.copied, directive.file, from),
      `${directive.file}:${directive.line} \`${directive.text}\` only applies when ${server.server.program} starts as root; as PEAK_USER_ID it is ignored with a warning at every start`,
      `delete that line from ${directive.file}`,
    ),
    context: { file: directive.file, line: directive.line },
  }));
}

/** A run-time path inside a VOLUME of the base image: a change of owner there is discarded. */
function serverVolumeFindings(from: Instruction, server: StageServer): Finding[] {
  return server.paths.flatMap((path) => {
    const volume = volumeHolding(server.server, path.path);
    if (!volume) return [];
    return [
      finding(
        'server-volume',
        from,
        `${server.server.program} writes ${path.path}, inside the base image's VOLUME ${volume}: the classic builder discards a RUN's change of owner there, so it stays the image user's`,
        server.server.volumeHint ??
          `mount a volume the UID can write at ${volume} (Kubernetes: securityContext.fsGroup), or move the data to a directory of its own in the server's configuration`,
      ),
    ];
  });
}

interface Script {
  file: string;
  text: string;
}

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The scripts in the build context that a CMD/ENTRYPOINT runs (`./start.sh`, `/entrypoint.sh`, `sh run.sh`, a name on PATH). */
function scriptsRun(model: DockerfileModel, start: Instruction, copied: ReadonlyMap<string, { file: string; text: string }>): Script[] {
  const words = argumentsText(model, start)
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(/[\s,]+/)
    .map((w) => w.replace(/^["']|["']$/g, ''))
    .filter(Boolean);
  const scripts: Script[] = [];
  const workdir = workdirBefore(model, start);
  for (const word of words.slice(0, 3)) {
    const candidates = word.startsWith('/')
      ? [word]
      : word.includes('/')
        ? workdir
          ? [`${workdir}/${word.replace(/^\.\//, '')}`]
          : []
        : PATH_DIRS.map((d) => `${d}/${word}`).concat(workdir ? [`${workdir}/${word}`] : []);
    const hit = candidates.map((c) => copied.get(c.replace(/\/+/g, '/'))).find((c) => c !== undefined);
    if (hit && !scripts.some((s) => s.file === hit.file)) scripts.push(hit);
  }
  return scripts;
}

function workdirBefore(model: DockerfileModel, at: Instruction): string | null {
  let workdir: string | null = null;
  for (const i of model.ast.getInstructions()) {
    if (i === at) break;
    if (i.getKeyword() === 'FROM') workdir = null;
    if (i.getKeyword() === 'WORKDIR') {
      const value = argumentsOf(i)[0]?.getValue() ?? '';
      workdir = value.startsWith('/') ? value.replace(/\/+$/, '') : workdir && value ? `${workdir}/${value}` : null;
    }
  }
  return workdir;
}
