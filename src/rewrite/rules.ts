import type { Severity } from '../types.js';

/** What `--list-rules` and `--explain` print, and what SARIF's rule metadata says. One entry per finding id. */
export interface RuleDoc {
  id: string;
  severity: Severity;
  summary: string;
  description: string;
  before: string;
  after: string;
  /**
   * The finding says the stage cannot run as a non-root user as it is (all of the rule's messages, or those listed):
   * the stage is left unchanged and reported as needing a person, unless --force.
   */
  blocks?: true | readonly string[];
}

const rule = (
  id: string,
  severity: Severity,
  summary: string,
  description: string,
  before: string,
  after: string,
  blocks?: true | readonly string[],
): RuleDoc => ({ id, severity, summary, description, before, after, ...(blocks ? { blocks } : {}) });

/** The finding leaves its stage unchanged (RuleDoc.blocks). */
export function blocksStage(finding: { rule: string; messageId: string }): boolean {
  const blocks = findRule(finding.rule)?.blocks;
  return blocks === true || (blocks !== undefined && blocks.includes(finding.messageId));
}

export const RULES: readonly RuleDoc[] = [
  rule(
    'privilege-drop',
    'warning',
    'The entrypoint or command drops privileges itself (gosu, su-exec, su, runuser, setpriv, chroot --userspec).',
    'Tools that switch user need root. Once the image runs as PEAK_USER_ID they fail at start-up, e.g. `failed switching to "node": operation not permitted`. Remove the switch and let USER do it.',
    'ENTRYPOINT ["gosu", "node", "server.js"]',
    'ENTRYPOINT ["node", "server.js"]',
    true,
  ),
  rule(
    'sudo',
    'warning',
    'A RUN step uses sudo.',
    'Build steps before the final USER run as root already; sudo adds nothing there and is usually missing from slim images. After the switch it would need a sudoers entry for peak-user, which defeats the point of a non-root image.',
    'RUN sudo apt-get install -y curl',
    'RUN apt-get install -y curl',
  ),
  rule(
    'privileged-port',
    'warning',
    'The image exposes or binds a port below 1024.',
    'A non-root process cannot bind ports below 1024 under runtimes that keep the kernel default (Docker 20.10 happens to allow it; Kubernetes nodes often do not): `bind: Permission denied`. Listen on a high port and map it.',
    'EXPOSE 80\nCMD ["gunicorn", "--bind", "0.0.0.0:80", "app:app"]',
    'EXPOSE 8080\nCMD ["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]',
  ),
  rule(
    'root-home-write',
    'warning',
    "A RUN step writes to root's home, which the user will not see at run time.",
    'Steps that run as root and write to ~, $HOME or /root (git config --global, pip install --user, npm config, ~/.cache) leave their result in /root. The process runs as peak-user with HOME=/home/peak-user and does not see it (and cannot read /root).',
    'RUN pip install --user -r requirements.txt',
    'RUN pip install --no-cache-dir -r requirements.txt',
  ),
  rule(
    'add-archive-chown',
    'warning',
    'ADD --chown of a local archive: the extracted files stay owned by root.',
    'ADD unpacks local tar archives and ignores --chown for what it extracts. If the user must write to those files, chown them in a RUN after the ADD.',
    'ADD --chown=peak-user vendor.tar.gz /opt/vendor/',
    'ADD vendor.tar.gz /opt/vendor/\nRUN chown -R peak-user:peak-user /opt/vendor',
  ),
  rule(
    'workdir-kept',
    'info',
    'WORKDIR /home/peak-user was not inserted because the stage relies on the working directory it inherits.',
    'Moving the working directory would move where relative COPY destinations land and where commands run (`COPY app.py /` + `CMD ["python", "app.py"]` breaks). The user still gets its home; pass --workdir=always to insert the WORKDIR anyway.',
    'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python", "app.py"]',
    'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]',
  ),
  rule(
    'chown-other-user',
    'warning',
    'COPY or ADD --chown gives the files to another user than peak-user.',
    'The existing --chown is kept, so the files stay owned by that user and peak-user may not be able to write them. Change it if the application writes there.',
    'COPY --chown=www-data src/ /var/www/html/',
    'COPY --chown=peak-user src/ /var/www/html/',
  ),
  rule(
    'user-overridden',
    'info',
    'The stage switched to another user; USER $PEAK_USER_ID at the end now decides who runs the image.',
    'Build steps keep running as the user the Dockerfile chose; only the runtime user changes. Files that user created may need to be given to peak-user.',
    'USER node\nCMD ["node", "index.js"]',
    'USER node\nCMD ["node", "index.js"]\nUSER $PEAK_USER_ID',
  ),
  rule(
    'final-user-root',
    'info',
    'The stage ended as root; USER $PEAK_USER_ID at the end now decides who runs the image.',
    'Peak runs the container as PEAK_USER_ID. Anything that needed root at run time (binding low ports, writing system directories) has to be done at build time instead.',
    'USER root\nCMD ["/srv/app"]',
    'USER root\nCMD ["/srv/app"]\nUSER $PEAK_USER_ID',
  ),
  // ---- base images (issue 9: facts with sources, bases that cannot be resolved)
  rule(
    'unknown-base',
    'warning',
    'The base image is not in the catalog; a user-creation line that works with useradd, busybox adduser or neither was used.',
    'peak-fix does not know the base image: whether it runs as a non-root user, which UIDs it already uses, which user tool it has. The inserted line tries useradd (sharing the UID if needed), then busybox adduser, then writes the user into /etc/passwd; it never installs a package. If the base image runs as a non-root user, add USER 0 before the inserted RUN and restore the user after it, or describe the image in the organisation catalog.',
    'FROM registry.example.com/base:1',
    'FROM registry.example.com/base:1\nARG PEAK_USER_ID\n...',
  ),
  rule(
    'unresolved-base',
    'warning',
    'FROM uses a variable with no value: the base image cannot be known, so the file was skipped.',
    'The base image decides how the user is created (useradd, busybox adduser, no shell at all) and who runs the build steps. When a FROM variable has no default and names no earlier stage, peak-fix leaves the file alone rather than guess; --check still reports it as not migrated. Give the variable a value with --arg NAME=VALUE, or a default in an ARG before the first FROM.',
    'ARG BASE_IMAGE\nFROM $BASE_IMAGE',
    'ARG BASE_IMAGE\nFROM $BASE_IMAGE   # peak-fix --arg BASE_IMAGE=debian:bookworm-slim migrates it',
  ),
  rule(
    'windows-base',
    'info',
    'Windows base image: the file was skipped.',
    'Linux user management does not apply to Windows containers (ContainerUser / ContainerAdministrator).',
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
  ),
  rule(
    'devcontainer-base',
    'info',
    'Dev container base image: the file was skipped.',
    'An image built on a dev container image (mcr.microsoft.com/devcontainers/*) is opened by an editor, which picks its own user (remoteUser), and never deployed to Peak. Like the files under .devcontainer/, it is left alone.',
    'FROM mcr.microsoft.com/devcontainers/python:3.12',
    'FROM mcr.microsoft.com/devcontainers/python:3.12',
  ),
  rule(
    'container-action',
    'info',
    'A GitHub Docker container action: the file was skipped.',
    'The action.yml beside it runs this Dockerfile (`runs.using: docker`). GitHub\'s own rule: "Docker actions must be run by the default Docker user (root). Do not use the USER instruction in your Dockerfile, because you won\'t be able to access the GITHUB_WORKSPACE directory" (docs.github.com, Dockerfile support for GitHub Actions). It runs in a workflow, never on Peak.',
    'FROM alpine:3.20\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]',
    'FROM alpine:3.20\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]',
  ),
  rule(
    'distroless-base',
    'info',
    'Distroless or scratch base: no shell, so no user is created; numeric --chown and USER are used instead.',
    'There is no /bin/sh to run useradd and no /etc/passwd to resolve names, so COPY/ADD get --chown=$PEAK_USER_ID:$PEAK_USER_ID and the image ends with USER $PEAK_USER_ID. Directories the process must write to have to be prepared in a builder stage.',
    'FROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app',
    'FROM gcr.io/distroless/static-debian12\nARG PEAK_USER_ID\nENV PEAK_USER_ID=$PEAK_USER_ID\nCOPY --chown=$PEAK_USER_ID:$PEAK_USER_ID --from=build /out/app /app\nUSER $PEAK_USER_ID',
  ),
  rule(
    'system-dir-not-owned',
    'warning',
    'A VOLUME or WORKDIR is a system directory, which was not given to peak-user.',
    'Giving /, /usr, /etc, /var, /opt and the like to the user would be a security change, not a migration. If the process must write there, use a dedicated sub-directory.',
    'VOLUME /var',
    'VOLUME /var/lib/app',
  ),
  rule(
    'volume-not-owned',
    'warning',
    'A VOLUME directory could not be given to peak-user.',
    'A chown after VOLUME is discarded, so ownership must be fixed before it; that was impossible here (the path is not literal, the user is created after the VOLUME, or there is no shell).',
    'VOLUME $DATA_DIR',
    'RUN mkdir -p /data && chown peak-user:peak-user /data\nVOLUME /data',
  ),
  rule(
    'dir-not-owned',
    'warning',
    'A WORKDIR or mkdir directory could not be given to peak-user (no shell in the base image).',
    'Distroless and scratch images cannot run chown. Create the directory in a builder stage and COPY it with --chown.',
    'WORKDIR /data',
    'COPY --from=build --chown=$PEAK_USER_ID:$PEAK_USER_ID /data /data',
  ),
  rule(
    'old-shadow-lastlog',
    'warning',
    'useradd without -l on a base whose shadow is older than 4.13: a big UID makes a huge image.',
    'Before shadow 4.13 useradd fills /var/log/lastlog and faillog up to the UID: with UID 100000000 the build took 348 s and the image grew to 32.6 GB. Add -l (--no-log-init).',
    'RUN useradd -m -u $PEAK_USER_ID peak-user',
    'RUN useradd -l -m -u $PEAK_USER_ID peak-user',
  ),
  // Least privilege and never root (ownership policy, shell model).
  rule(
    'fixed-uid',
    'error',
    'The user is created with a fixed or defaulted UID instead of the build argument.',
    'Peak passes the UID as the build argument PEAK_USER_ID. `useradd -u 1000 peak-user`, `-u ${PEAK_USER_ID:-1001}` or no `-u` at all make an image that ignores it, or that builds without the argument. --check does not accept such a file as compliant.',
    'RUN useradd -l -m -u ${PEAK_USER_ID:-1001} peak-user',
    'RUN useradd -l -m -u "$PEAK_USER_ID" peak-user',
  ),
  rule(
    'root-home-path',
    'warning',
    "A path under root's home is used by the image or named for the user.",
    '/root is 0700 root: once the process runs as PEAK_USER_ID it cannot reach anything there (with `WORKDIR /root` the container does not even start). peak-fix does not give /root away; move what the program needs out of it.',
    'ENV DOTNET_ROOT=/root/.dotnet',
    'ENV DOTNET_ROOT=/usr/share/dotnet',
    ['final-workdir', 'copy-into-root-home', 'env'],
  ),
  rule(
    'other-user-home',
    'warning',
    "A directory in another user's home would have been given to peak-user.",
    "Another user's home belongs to that user; peak-fix reports it instead of taking it. Give the program a directory of its own.",
    'RUN mkdir -p /home/oracle/data',
    'RUN mkdir -p /app/data',
  ),
  rule(
    'other-user-dir',
    'info',
    'A directory the original gave to another user is given to peak-user.',
    'A directory the original image gave to its runtime user (www-data, redis...) is one its program writes. That program now runs as PEAK_USER_ID, so the directory, with its files, goes to peak-user at the end of the stage.',
    'RUN chown -R www-data:www-data /var/www',
    'RUN chown -R www-data:www-data /var/www\n...\nRUN for d in /var/www; do ... chown peak-user:peak-user ...; done',
  ),
  rule(
    'base-user-files',
    'warning',
    'The base runs its program as a user of its own, and the stage still runs that program.',
    "The base's own Dockerfile gave that user what its program writes (data, logs, configuration it renders at start), in paths this Dockerfile never names. The program now runs as PEAK_USER_ID, which owns none of them, so it may stop at start (`Permission denied`). peak-fix does not give them away blindly: they can hold the image's runtime (a bundled JDK, a conda tree) and copying their files would double a layer. Give peak-user the paths the program writes in the Dockerfile.",
    'FROM apache/kafka:4.1.0\nCOPY server.properties /mnt/shared/config/',
    'FROM apache/kafka:4.1.0\nCOPY server.properties /mnt/shared/config/\nUSER root\nRUN chown -R peak-user:peak-user /opt/kafka/config /var/lib/kafka/data /usr/logs',
  ),
  rule(
    'chown-system-path',
    'info',
    'A COPY/ADD into an operating-system location keeps its owner.',
    "The guide's --chown is for the application's files. Files copied into /, /usr, /etc, /lib, /bin or /sbin (an entrypoint in /usr/local/bin, a root file system copied onto /) stay root's, so the process cannot rewrite its own entrypoint, configuration or libraries.",
    'COPY docker-entrypoint.sh /usr/local/bin/',
    'COPY docker-entrypoint.sh /usr/local/bin/',
  ),
  rule(
    'uid-shift',
    'warning',
    'A later useradd without -u gets another UID than before.',
    'peak-user is created first and takes the next free UID, so a user the stage creates later without -u is numbered one higher than in the original image. Files owned by number (volumes, mounts) then belong to someone else.',
    'RUN useradd -m appuser',
    'RUN useradd -m -u 1000 appuser',
  ),
  rule(
    'uid-conflict',
    'warning',
    'A later useradd takes a fixed UID that PEAK_USER_ID may also use.',
    'When PEAK_USER_ID equals the fixed UID, useradd fails with `UID 1001 is not unique` and the build breaks.',
    'RUN useradd -u 1001 pgweb',
    'RUN useradd -u 1001 -o pgweb   # or pick a UID Peak does not use',
  ),
  rule(
    'onbuild',
    'warning',
    'ONBUILD steps of the final stage run as PEAK_USER_ID in every child image.',
    'The image now ends as USER $PEAK_USER_ID, so a child image runs these ONBUILD steps as that user: installs and writes outside its home fail. Add USER 0 to the trigger or in the child.',
    'ONBUILD RUN pip install -r requirements.txt',
    'ONBUILD USER 0\nONBUILD RUN pip install -r requirements.txt',
  ),
  rule(
    'artifact-stage',
    'info',
    'The final stage only collects build output: it is not an image that runs.',
    'A final `FROM scratch` stage with no CMD or ENTRYPOINT (an export for `docker build --output`, a binaries stage) is not run by Peak; giving its files to a UID would only change what consumers inherit. It is left as it is.',
    'FROM scratch AS binaries\nCOPY --from=build /out/ /',
    'FROM scratch AS binaries\nCOPY --from=build /out/ /',
  ),
  rule(
    'child-creates-user',
    'info',
    'With --all-stages, a stage that another stage is built from is left as it is, because that stage creates peak-user itself.',
    "A stage built FROM another stage inherits its users. If peak-fix created peak-user in the parent, the child's own `useradd peak-user` would fail (`user 'peak-user' already exists`) and the image would no longer build. The parent keeps its original user; the child, which creates the user, is migrated.",
    'FROM debian AS base\nRUN apt-get update\nFROM base\nRUN useradd -m -u "$PEAK_USER_ID" peak-user',
    'FROM debian AS base\nRUN apt-get update\nFROM base\nRUN useradd -m -u "$PEAK_USER_ID" peak-user\n...\nUSER $PEAK_USER_ID',
  ),
  // --- issue 13 (image facts: inspect, catalog, images built from each other) ---
  rule(
    'base-facts',
    'info',
    'Where the facts about the base image came from, when not from the built-in table: config, facts file, inspection or the same repository.',
    'The rewrite depends on what the base image is (shell, user tool, default user, UIDs taken, already migrated). When those facts come from the organisation\'s catalog (config "images"), from peak-fix-images.json written by `peak-fix inspect`, from --inspect-images, or from an image this repository builds itself (compose, bake), the finding names the source (e.g. `inspected sha256:...`) so a reviewer can trust or correct it.',
    'FROM registry.corp/platform/python:3.11',
    'FROM registry.corp/platform/python:3.11\n# base-facts: facts about registry.corp/platform/python:3.11 from inspected sha256:...: family debian, default user 1001',
  ),
  // --- Servers (issue 14): what ownership cannot fix when a server starts as PEAK_USER_ID ---
  rule(
    'root-start',
    'warning',
    'The container starts something that needs root: an init system, sshd, cron, or an entrypoint script step that switches user or changes owners.',
    "supervisord (with user= lines), s6-overlay's /init, sshd and cron switch users or manage system files, and an entrypoint script that calls gosu, su-exec or chown fails as soon as the container starts non-root (`operation not permitted`). Giving the user its files cannot fix that: the start itself has to change. When the script is in the build context, the finding names its line. Scripts that check `id -u` before such steps, as the official images do, are not reported.",
    'COPY entrypoint.sh /\nENTRYPOINT ["/entrypoint.sh"]   # entrypoint.sh: chown -R app /data && exec gosu app "$@"',
    'RUN mkdir -p /data   # owned at build time by the closing step\nENTRYPOINT ["/entrypoint.sh"]   # entrypoint.sh: exec "$@"',
    true,
  ),
  rule(
    'container-engine',
    'warning',
    'The container runs a container engine or a Docker-socket client (kaniko, buildah, dind, podman, portainer, docker-gen).',
    "Container engines need root or privileges (user namespaces, --privileged), and clients of the Docker socket need the socket's group on the host. A non-root UID on Peak has neither. Build images in CI, and talk to the platform's API instead of the socket.",
    'FROM docker:24-dind',
    '(build the image in CI; run only the application on Peak)',
    true,
  ),
  rule(
    'raw-network',
    'warning',
    'The container needs a tun device or raw sockets (openvpn, tailscaled, masscan, WireGuard).',
    'Tunnels need /dev/net/tun and CAP_NET_ADMIN, raw packets need CAP_NET_RAW; a non-root process has neither. tailscaled works without them with --tun=userspace-networking.',
    'CMD ["tailscaled"]',
    'CMD ["tailscaled", "--tun=userspace-networking", "--statedir=/home/peak-user/tailscale"]',
    true,
  ),
  rule(
    'server-user-line',
    'info',
    'A copied server configuration has a user directive (nginx `user`, httpd `User`) that only applies to a root start.',
    'nginx and httpd switch their workers to that user only when started as root. Started as PEAK_USER_ID they ignore it and log a warning at every start (`the "user" directive makes sense only if the master process runs with super-user privileges, ignored`). Delete the line.',
    'user  nginx;\nworker_processes  auto;',
    'worker_processes  auto;',
  ),
  rule(
    'server-volume',
    'warning',
    'The server writes inside a VOLUME of its base image, whose owner a RUN in this Dockerfile cannot change.',
    "The classic builder runs each RUN with the base image's VOLUMEs mounted and discards what it changes there, so the data directory keeps the image user's owner (redis 999, postgres 999) and the server cannot write it as PEAK_USER_ID. Mount a volume the UID can write (Kubernetes: securityContext.fsGroup), or point the server at a directory of its own in its configuration (the closing step gives that one to the user).",
    'FROM redis:7.2\nCOPY redis.conf /usr/local/etc/redis/redis.conf   # dir /data',
    'FROM redis:7.2\nCOPY redis.conf /usr/local/etc/redis/redis.conf   # dir /var/lib/redis-app',
  ),
  rule(
    'server-config-dir',
    'warning',
    'A copied server configuration points the server at a directory this Dockerfile does not make.',
    "A directory that a package made for its own user (a data directory under /var/lib, a log directory) belongs to that user, often with mode 0750: started as PEAK_USER_ID the server cannot write there and exits at start. peak-fix gives the user the directories the Dockerfile makes, never another user's. Point the configuration at a directory of the application's and make it in a RUN (mkdir): the closing step gives it to the user.",
    'RUN apt-get install -y redis-server\nCOPY redis.conf /etc/redis/redis.conf   # dir /var/lib/redis\nCMD ["redis-server", "/etc/redis/redis.conf"]',
    'RUN apt-get install -y redis-server && mkdir -p /srv/redis-data\nCOPY redis.conf /etc/redis/redis.conf   # dir /srv/redis-data\nCMD ["redis-server", "/etc/redis/redis.conf"]',
  ),
  rule(
    'start-writes-cwd',
    'warning',
    'The container command writes a file into its working directory, which the user cannot write.',
    "The command writes relative to where it starts (`envsubst < app.tmpl > app.yaml`), and the working directory is another user's home, root's, or a system directory: peak-fix does not give those away, so as PEAK_USER_ID the command fails at start. Set WORKDIR to a directory of the application's (the closing step gives it to the user), or write to /tmp.",
    'USER envoy\nWORKDIR /home/envoy\nENTRYPOINT ["sh", "-c", "envsubst < envoy.tmpl.yaml > envoy.yaml && envoy -c envoy.yaml"]',
    'WORKDIR /app\nENTRYPOINT ["sh", "-c", "envsubst < envoy.tmpl.yaml > envoy.yaml && envoy -c envoy.yaml"]',
    true,
  ),
  rule(
    'start-writes-system-path',
    'warning',
    "The container command writes a file in a system path, another user's home or root's, which the user is never given.",
    "The command writes an absolute path at start (`envsubst < nginx.conf.template > /etc/nginx/nginx.conf`) in a tree peak-fix never gives away, even where the base image gave it to its own user: as PEAK_USER_ID the command fails at start. Write the file under /tmp or a directory of the application's, and point the program at it.",
    'CMD ["sh", "-c", "envsubst < /nginx.conf.template > /etc/nginx/nginx.conf && exec nginx -g \'daemon off;\'"]',
    'CMD ["sh", "-c", "envsubst < /nginx.conf.template > /tmp/nginx.conf && exec nginx -c /tmp/nginx.conf -g \'daemon off;\'"]',
    true,
  ),
  rule(
    'stage-left-unchanged',
    'error',
    'A stage was left unchanged: its own findings say it cannot run as a non-root user as it is.',
    'Rewriting such a stage gives an image that builds and then cannot start (an init system or sshd that needs root, a container engine, a command that switches user, a working directory under /root). peak-fix leaves it as it was and names what a person must change first; `--check` fails and the fleet report lists it until then. `--force` rewrites it anyway.',
    'FROM ubuntu:24.04\nRUN apt-get install -y openssh-server\nCMD ["/usr/sbin/sshd", "-D"]',
    '(run the application directly, without sshd; then run peak-fix again)',
  ),
];

export function findRule(id: string): RuleDoc | undefined {
  return RULES.find((r) => r.id === id);
}
