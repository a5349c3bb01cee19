import type { Instruction } from 'dockerfile-ast';
import { copiedFiles, type CopiedFile } from '../src/model/context.js';
import { argumentsText, foldedText, type DockerfileModel } from '../src/model/dockerfile.js';
import { stageServer } from '../src/model/server.js';
import { readServerConfig, STARTED_SERVERS, volumeHolding } from '../src/facts/servers.js';
import { writableDirs } from '../src/model/dirs.js';
import { classifyPath } from '../src/facts/paths.js';
import { stageScope } from '../src/model/scope.js';
import { finding, type Transform, type TransformContext } from '../src/rewrite/transform.js';
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

/** Programs that, started as PID 1 or by the entrypoint, need root. */
const ROOT_START: StartRule[] = [
  {
    pattern: /(?:^|[\s"'/[,])supervisord(?=$|[\s"',\]])/,
    what: 'supervisord',
    hint: 'run one process per container as the UID; if supervisord must stay, remove every `user=` line and its `[unix_http_server]` socket from root-owned directories and point logfile/pidfile at the home',
  },
  {
    pattern: /(?:^|[\s"'[,])\/init(?=$|[\s"',\]])/,
    what: "s6-overlay's /init",
    hint: 's6-overlay v3 starts as a non-root user only with a writable /run and no service that needs root (no s6-setuidgid, no fix-attrs); otherwise start the service directly with CMD',
  },
  {
    pattern: /(?:^|[\s"'/[,])sshd(?=$|[\s"',\]])/,
    what: 'sshd',
    hint: 'sshd needs root to switch to the logging-in user; use `docker exec` (or kubectl exec) instead of an ssh server in the image',
  },
  {
    pattern: /(?:^|[\s"'/[,])(?:cron|crond|anacron)(?=$|[\s"',\]])/,
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
const SCRIPT_ROOT: { pattern: RegExp; what: string; hint: string }[] = [
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

/** A script that checks who it runs as before the root steps (the official images' pattern) is fine as non-root. */
const CHECKS_ROOT = /\$\(id\s+-u\)|`id\s+-u`|\$\{?EUID\b|\$\{?UID\b|id\s+-u\s*\)?\s*"?\s*(?:=|-eq|!=|-ne)/;

/** ENV names that set the port a server listens on, and how to read the port from the value. */
const PORT_ENV =
  /^(ASPNETCORE_URLS|URLS|ASPNETCORE_HTTP_PORTS|ASPNETCORE_HTTPS_PORTS|PORT|HTTP_PORT|HTTPS_PORT|SERVER_PORT|LISTEN_PORT|APP_PORT|WEB_PORT|NGINX_PORT|UVICORN_PORT|FLASK_RUN_PORT|GUNICORN_CMD_ARGS|BIND|BIND_ADDRESS)$/;

/** Ports below 1024 in a value: a list of numbers for *PORT(S), else the `:N` of URLs and bind addresses. */
function lowPorts(name: string, value: string): number[] {
  const found = /PORTS?$/.test(name)
    ? value.split(/[;,\s]+/).filter((v) => /^\d{1,5}$/.test(v))
    : [...value.matchAll(/:(\d{1,5})(?=$|[/;,\s"'])/g)].map((m) => m[1]);
  return [...new Set(found.map(Number).filter((p) => p > 0 && p < 1024))];
}

export const serverStart: Transform = {
  id: 'server-start',
  summary: 'Reports starts that need root, container engines, raw network access, root-only server settings and low ports.',
  apply({ model, plan, inputs }) {
    const findings: Finding[] = [];
    const { stage } = plan;
    const starts = stage.instructions.filter((i) => ['CMD', 'ENTRYPOINT'].includes(i.getKeyword()));
    const reference = plan.base.reference.toLowerCase();

    for (const base of BASE_IMAGES) {
      if (base.pattern.test(reference)) {
        findings.push(
          finding(base.rule, stage.from, `${plan.base.reference} runs ${base.what}, which a non-root UID cannot start`, base.hint),
        );
      }
    }
    for (const start of starts) {
      const text = argumentsText(model, start);
      const keyword = start.getKeyword();
      for (const rule of ROOT_START) {
        if (rule.pattern.test(text))
          findings.push(finding('root-start', start, `${keyword} starts ${rule.what}, which needs root`, rule.hint));
      }
      for (const rule of CONTAINER_ENGINES) {
        if (rule.pattern.test(text) && !BASE_IMAGES.some((b) => b.what === rule.what && b.pattern.test(reference))) {
          findings.push(
            finding('container-engine', start, `${keyword} runs ${rule.what}, which needs root or the host's Docker socket`, rule.hint),
          );
        }
      }
      for (const rule of RAW_NETWORK) {
        if (rule.pattern.test(text) && !BASE_IMAGES.some((b) => b.what === rule.what && b.pattern.test(reference))) {
          findings.push(finding('raw-network', start, `${keyword} runs ${rule.what}, which needs a tun device or raw sockets`, rule.hint));
        }
      }
    }

    // Scripts the start runs that are in the build context: the line of the script that needs root.
    const copied = copiedFiles(model, stage, inputs.contextFiles);
    for (const start of starts) {
      for (const script of scriptsRun(model, start, copied)) {
        const lines = script.text.split(/\r\n|\r|\n/);
        const guardedFrom = lines.findIndex((l) => CHECKS_ROOT.test(l));
        lines.forEach((raw, index) => {
          const line = raw.replace(/(^|\s)#.*$/, '');
          if (guardedFrom >= 0 && index >= guardedFrom) return;
          for (const rule of SCRIPT_ROOT) {
            const match = rule.pattern.exec(line);
            if (!match) continue;
            findings.push({
              ...finding(
                'root-start',
                start,
                `${start.getKeyword()} runs ${script.file}, whose line ${index + 1} ${rule.what.replace('$1', match[1].trim())} (\`${raw.trim()}\`): that needs root`,
                rule.hint,
              ),
              context: { file: script.file, line: index + 1 },
            });
            break;
          }
        });
      }
    }

    // Ports below 1024 set by the environment.
    for (const env of stage.instructions.filter((i) => i.getKeyword() === 'ENV')) {
      for (const [name, value] of envPairs(model, env)) {
        if (!PORT_ENV.test(name)) continue;
        const low = lowPorts(name, value);
        if (low.length > 0) {
          findings.push(
            finding(
              'privileged-port',
              env,
              `ENV ${name}=${value} makes the server listen on port ${low.join(', ')}: fine under Docker (ip_unprivileged_port_start=0), refused for a non-root UID where the runtime keeps the kernel default of 1024`,
              `listen on a port of 1024 or more, e.g. ${name}=${value.replace(String(low[0]), '8080')}, and map it`,
            ),
          );
        }
      }
    }

    findings.push(...startWritesFindings(model, plan, starts));

    const server = stageServer(model, stage, plan.base.reference, inputs);
    if (server) findings.push(...serverFindings(model, plan.stage.from, stage.instructions, server));
    else findings.push(...startedServerFindings(model, plan, starts, copied));
    return { edits: [], findings };
  },
};

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
    const refused = [...text.matchAll(ABSOLUTE_REDIRECT)]
      .map((m) => m[1])
      .filter((path) => !WRITABLE_BY_ANYONE.test(path) && classifyPath(path, options.home) !== 'app');
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
  const copiedBy = (file: string) => [...copied.values()].find((c) => c.file === file)?.copiedBy ?? plan.stage.from;
  return configured.paths
    .filter((p) => p.kind === 'dir' && !madeHere.has(p.path))
    .map((p) => {
      const [file, line] = p.source.split(':');
      return {
        ...finding(
          'server-config-dir',
          copiedBy(file),
          `${p.source.split(': ')[0]} points ${started.server.program} at ${p.path}, which this Dockerfile does not make: a directory a package made there belongs to the package's user, so ${started.server.program} cannot write it as $${plan.peak.options.uidArg} and exits at start`,
          `point it at a directory of the application's and make it in a RUN (mkdir -p): the closing step gives it to ${plan.peak.options.user}`,
        ),
        context: { file, line: Number(line) },
      };
    });
}

function serverFindings(
  model: DockerfileModel,
  from: Instruction,
  instructions: Instruction[],
  server: NonNullable<ReturnType<typeof stageServer>>,
): Finding[] {
  const findings: Finding[] = [];
  const copiedBy = (file: string) => [...server.copied.values()].find((c) => c.file === file)?.copiedBy ?? from;
  const program = server.server.program;
  for (const directive of server.configured.userDirectives) {
    findings.push({
      ...finding(
        'server-user-line',
        copiedBy(directive.file),
        `${directive.file}:${directive.line} \`${directive.text}\` only applies when ${program} starts as root; as PEAK_USER_ID it is ignored with a warning at every start`,
        `delete that line from ${directive.file}`,
      ),
      context: { file: directive.file, line: directive.line },
    });
  }
  const configPorts = server.configured.ports.filter((p) => p.port < 1024);
  for (const { port, at } of configPorts) {
    findings.push({
      ...finding(
        'privileged-port',
        copiedBy(at.file),
        `${at.file}:${at.line} \`${at.text}\` makes ${program} listen on port ${port}: fine under Docker (ip_unprivileged_port_start=0), refused for a non-root UID where the runtime keeps the kernel default of 1024`,
        `listen on 8080 (or another port of 1024 or more) in ${at.file} and map it`,
      ),
      context: { file: at.file, line: at.line },
    });
  }
  // The image's own configuration keeps its port unless this Dockerfile copies over or edits that file.
  const own = server.server.port;
  // An `EXPOSE 80` of the stage is reported by the privileged-port check of EXPOSE already.
  const exposed = instructions.some(
    (i) => i.getKeyword() === 'EXPOSE' && i.getArguments().some((a) => Number.parseInt(a.getValue(), 10) === own?.number),
  );
  if (own && own.number < 1024 && server.configured.ports.length === 0 && !exposed) {
    // A RUN that edits the file (sed 's/listen 80/...'), or a COPY/ADD whose text names it, may move the port.
    const file = own.file ?? '';
    const name = file.slice(file.lastIndexOf('/') + 1);
    const dir = file.slice(0, file.lastIndexOf('/'));
    const edited = instructions.some((i) => {
      const keyword = i.getKeyword();
      const text = foldedText(model, i);
      if (keyword === 'RUN') return /\blisten\b/i.test(text) || (name !== '' && text.includes(name));
      return (
        (keyword === 'COPY' || keyword === 'ADD') &&
        name !== '' &&
        (text.includes(name) || text.trimEnd().replace(/\/+$/, '').endsWith(dir))
      );
    });
    if (!edited) {
      findings.push(
        finding(
          'privileged-port',
          from,
          `${program} in this image listens on port ${own.number} (${own.source}): fine under Docker (ip_unprivileged_port_start=0), refused for a non-root UID where the runtime keeps the kernel default of 1024`,
          `copy in a configuration that listens on 8080 (or another port of 1024 or more) and map it`,
        ),
      );
    }
  }
  for (const path of server.paths) {
    const volume = volumeHolding(server.server, path.path);
    if (!volume) continue;
    findings.push(
      finding(
        'server-volume',
        from,
        `${program} writes ${path.path}, inside the base image's VOLUME ${volume}: the classic builder discards a RUN's change of owner there, so it stays the image user's`,
        server.server.volumeHint ??
          `mount a volume the UID can write at ${volume} (Kubernetes: securityContext.fsGroup), or move the data to a directory of its own in the server's configuration`,
      ),
    );
  }
  return findings;
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
      const value = i.getArguments()[0]?.getValue() ?? '';
      workdir = value.startsWith('/') ? value.replace(/\/+$/, '') : workdir && value ? `${workdir}/${value}` : null;
    }
  }
  return workdir;
}

/** `ENV A=1 B=2` and the old `ENV A 1` form, as name/value pairs. */
function envPairs(model: DockerfileModel, env: Instruction): [string, string][] {
  const text = argumentsText(model, env).trim();
  if (!text.includes('=') || /^[A-Za-z_][A-Za-z0-9_]*\s+[^=]*$/.test(text)) {
    const [name, ...rest] = text.split(/\s+/);
    return name ? [[name, rest.join(' ').replace(/^["']|["']$/g, '')]] : [];
  }
  const pairs: [string, string][] = [];
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    pairs.push([match[1], match[2].replace(/^["']|["']$/g, '')]);
  }
  return pairs;
}
