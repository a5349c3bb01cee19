import type { RuntimePath } from './types.js';
import { parseReference } from './reference.js';

/**
 * What official server images write at run time, as facts with the source they were read from (the image's
 * own Dockerfile, entrypoint and configuration). A server started as PEAK_USER_ID needs these paths to be its
 * own, or it stops at start-up (`mkdir() "/var/cache/nginx/client_temp" failed (13: Permission denied)`).
 *
 * One table, one row per image (variant). The closing step gives the user each row's `runtimePaths`; paths the
 * image has already made writable for any UID (`chmod 1777`) are not listed, only noted. Paths inside a `VOLUME`
 * of the image are listed and also reported: the legacy builder discards a child's changes there.
 */
export interface ServerImage {
  /** The program, as messages name it. */
  program: string;
  /** Docker Hub repositories (without `library/`), or full repository paths for other registries. */
  repositories: string[];
  /** Tags this row is for (an Alpine variant); rows without it take every tag not claimed by a more specific row. */
  tags?: RegExp;
  /** Paths the program writes at run time that belong to root (or to the image's own user) in the image. */
  runtimePaths: RuntimePath[];
  /** `VOLUME`s the image declares: a RUN of a child image cannot change what is under them (legacy builder). */
  volumes: string[];
  /** Port the image's own configuration listens on, and the file that sets it (a COPY over it may change it). */
  port?: { number: number; source: string; file?: string };
  /** Environment variables that move a run-time path (`PGDATA`, `XDG_DATA_HOME`): the new path is the value + suffix. */
  envPaths?: { name: string; replaces: string; suffix?: string }[];
  /** Directories the image made writable for any UID (chmod 1777): what the program creates below them is its own. */
  worldWritable?: string[];
  /** What to do when a run-time path is inside one of `volumes`. */
  volumeHint?: string;
  /** Where the program reads its main configuration, and in which syntax. */
  config?: { paths: RegExp; syntax: ConfigSyntax };
  /** What else a person must know to start it as a non-root UID. */
  notes: string[];
  /** URLs of what was read: the image's Dockerfile, entrypoint, documentation. */
  sources: string[];
}

export type ConfigSyntax = 'nginx' | 'redis' | 'httpd';

const NGINX_DEBIAN = 'https://github.com/nginxinc/docker-nginx/blob/master/mainline/debian/Dockerfile';
const NGINX_ALPINE = 'https://github.com/nginxinc/docker-nginx/blob/master/mainline/alpine-slim/Dockerfile';
const NGINX_UNPRIVILEGED = 'https://github.com/nginxinc/docker-nginx-unprivileged/blob/main/mainline/debian/Dockerfile';
/** nginx.org's packages are built with these temp paths and this nginx.conf; the official images install them. */
const NGINX_ORG_CONF = 'https://github.com/nginx/pkg-oss/blob/master/debian/extra/nginx.conf';
const HTTPD = 'https://github.com/docker-library/httpd/blob/master/2.4/Dockerfile';
const HTTPD_FOREGROUND = 'https://github.com/docker-library/httpd/blob/master/2.4/httpd-foreground';
const PHP_APACHE = 'https://github.com/docker-library/php/blob/master/8.3/bookworm/apache/Dockerfile';
const PHP_FPM = 'https://github.com/docker-library/php/blob/master/8.3/bookworm/fpm/Dockerfile';
const PHP_ARBITRARY_USER = 'https://github.com/docker-library/php/issues/743';
const REDIS = 'https://github.com/docker-library/redis/blob/master/7.2/debian/Dockerfile';
const REDIS_ENTRYPOINT = 'https://github.com/docker-library/redis/blob/master/7.2/debian/docker-entrypoint.sh';
const MEMCACHED = 'https://github.com/docker-library/memcached/blob/master/1/debian/Dockerfile';
const POSTGRES = 'https://github.com/docker-library/postgres/blob/master/17/bookworm/Dockerfile';
const POSTGRES_18 = 'https://github.com/docker-library/postgres/blob/master/18/trixie/Dockerfile';
const POSTGRES_USER_DOCS = 'https://github.com/docker-library/docs/blob/master/postgres/content.md#arbitrary---user-notes';
const MYSQL = 'https://github.com/docker-library/mysql/blob/master/8.4/Dockerfile.oracle';
const MARIADB = 'https://github.com/MariaDB/mariadb-docker/blob/master/11.4/Dockerfile';
const MONGO = 'https://github.com/docker-library/mongo/blob/master/8.0/Dockerfile';
const TOMCAT = 'https://github.com/docker-library/tomcat/blob/master/10.1/jdk21/temurin-noble/Dockerfile';
const TOMCAT_HOST = 'https://tomcat.apache.org/tomcat-10.1-doc/config/host.html';
const CADDY = 'https://github.com/caddyserver/caddy-docker/blob/master/2.10/alpine/Dockerfile';
const CADDY_ROOTLESS = 'https://github.com/caddyserver/caddy-docker/blob/master/2.10/rootless/Dockerfile';
const CADDY_CONVENTIONS = 'https://caddyserver.com/docs/conventions#file-locations';

const LOW_PORT_NOTE =
  'a port below 1024 binds as a non-root UID under Docker (it sets net.ipv4.ip_unprivileged_port_start=0) but not under runtimes that keep the kernel default of 1024';

const nginxPaths = (dockerfile: string): RuntimePath[] => [
  {
    path: '/var/cache/nginx',
    kind: 'dir',
    source: `${dockerfile}: nginx.org's package, built with --http-client-body-temp-path=/var/cache/nginx/client_temp (and proxy_temp, fastcgi_temp, uwsgi_temp, scgi_temp), which nginx creates at start`,
  },
  { path: '/var/run/nginx.pid', kind: 'file', source: `${NGINX_ORG_CONF}: pid /var/run/nginx.pid;` },
];

const NGINX_NOTES = [
  'the `user nginx;` line of /etc/nginx/nginx.conf is ignored, with a warning, when nginx does not start as root',
  `/etc/nginx/conf.d/default.conf listens on 80: ${LOW_PORT_NOTE}; nginx-unprivileged listens on 8080`,
  'logs go to the container output: /var/log/nginx/access.log and error.log are links to /dev/stdout and /dev/stderr',
  'the entrypoint renders /etc/nginx/templates into /etc/nginx/conf.d only when that directory is writable; set NGINX_ENVSUBST_OUTPUT_DIR to a directory the user owns',
];

const POSTGRES_NOTES = [
  '/var/run/postgresql (the socket) is chmod 3777 in the image',
  'the user needs a passwd entry (peak-user has one); the documentation explains --user',
];

/** The official postgres image built from `dockerfile`, whose data directory (PGDATA, a VOLUME) is `data`. */
function postgresServer(dockerfile: string, data: string, how: string, volumeHint: string): ServerImage {
  return {
    program: 'PostgreSQL',
    repositories: ['postgres'],
    runtimePaths: [
      { path: data, kind: 'dir', source: `${dockerfile}: ${how}; initdb and postgres refuse a data directory the UID does not own` },
    ],
    volumes: [data],
    envPaths: [{ name: 'PGDATA', replaces: data }],
    volumeHint,
    port: { number: 5432, source: `${dockerfile}: EXPOSE 5432` },
    notes: POSTGRES_NOTES,
    sources: [dockerfile, POSTGRES_USER_DOCS],
  };
}

/** The official nginx image built from `dockerfile` (Alpine or Debian): the same layout, its own notes. */
function nginxServer(dockerfile: string, note: string): ServerImage {
  return {
    program: 'nginx',
    repositories: ['nginx'],
    runtimePaths: nginxPaths(dockerfile),
    volumes: [],
    port: { number: 80, source: `${dockerfile}: EXPOSE 80 and conf.d/default.conf \`listen 80;\``, file: '/etc/nginx/conf.d/default.conf' },
    config: { paths: /^\/etc\/nginx\/(nginx\.conf|conf\.d\/[^/]+\.conf)$/, syntax: 'nginx' },
    notes: [...NGINX_NOTES, note],
    sources: [dockerfile, NGINX_ORG_CONF, NGINX_UNPRIVILEGED],
  };
}

export const SERVER_IMAGES: readonly ServerImage[] = [
  {
    program: 'nginx',
    repositories: ['nginxinc/nginx-unprivileged'],
    runtimePaths: [
      {
        path: '/var/cache/nginx',
        kind: 'dir',
        source: `${NGINX_UNPRIVILEGED}: chown -R $UID:0 /var/cache/nginx && chmod -R g+w /var/cache/nginx (group 0, which PEAK_USER_ID is not in)`,
      },
    ],
    volumes: [],
    port: { number: 8080, source: `${NGINX_UNPRIVILEGED}: EXPOSE 8080` },
    config: { paths: /^\/etc\/nginx\/(nginx\.conf|conf\.d\/[^/]+\.conf)$/, syntax: 'nginx' },
    notes: ['the pid file is already /tmp/nginx.pid and there is no `user` line; the image runs as UID 101 by default'],
    sources: [NGINX_UNPRIVILEGED],
  },
  {
    ...nginxServer(NGINX_ALPINE, 'Alpine: user and group nginx are 101 (addgroup -g 101 -S nginx); /var/run links to /run'),
    tags: /alpine/,
  },
  nginxServer(NGINX_DEBIAN, 'Debian: user and group nginx are 101 (addgroup --system --gid 101 nginx)'),
  {
    program: 'Apache httpd',
    repositories: ['httpd'],
    runtimePaths: [
      {
        path: '/usr/local/apache2/logs',
        kind: 'dir',
        source: `${HTTPD}: httpd.conf \`PidFile logs/httpd.pid\` under ServerRoot /usr/local/apache2; ${HTTPD_FOREGROUND} runs \`rm -f /usr/local/apache2/logs/httpd.pid\` before starting`,
      },
    ],
    volumes: [],
    port: { number: 80, source: `${HTTPD}: EXPOSE 80 and httpd.conf \`Listen 80\``, file: '/usr/local/apache2/conf/httpd.conf' },
    config: { paths: /^\/usr\/local\/apache2\/conf\/httpd\.conf$/, syntax: 'httpd' },
    notes: [
      'the `User daemon` / `Group daemon` lines of httpd.conf only apply when httpd starts as root',
      `httpd.conf listens on 80: ${LOW_PORT_NOTE}`,
      'logs go to the container output (ErrorLog /proc/self/fd/2, CustomLog /proc/self/fd/1)',
    ],
    sources: [HTTPD, HTTPD_FOREGROUND],
  },
  {
    program: 'php-fpm',
    repositories: ['php'],
    tags: /fpm/,
    runtimePaths: [],
    volumes: [],
    port: { number: 9000, source: `${PHP_FPM}: EXPOSE 9000 and zz-docker.conf \`listen = 9000\`` },
    notes: [
      'nothing to own: php-fpm writes no pid file in this image, logs to /proc/self/fd/2, and /var/www/html is chmod 1777 ("allow running as an arbitrary user")',
      'the pool lines `user = www-data` / `group = www-data` are ignored, with a notice, when php-fpm does not start as root',
    ],
    sources: [PHP_FPM, PHP_ARBITRARY_USER],
  },
  {
    program: 'Apache httpd with PHP',
    repositories: ['php'],
    tags: /apache/,
    runtimePaths: [],
    volumes: [],
    port: { number: 80, source: `${PHP_APACHE}: EXPOSE 80 and Debian's ports.conf \`Listen 80\``, file: '/etc/apache2/ports.conf' },
    notes: [
      'nothing to own: APACHE_RUN_DIR, APACHE_LOCK_DIR, APACHE_LOG_DIR and /var/www/html are chmod 1777 in the image ("allow running as an arbitrary user")',
      `ports.conf listens on 80: ${LOW_PORT_NOTE}; change \`Listen\` in /etc/apache2/ports.conf and the <VirtualHost *:80> line to move it`,
    ],
    sources: [PHP_APACHE, PHP_ARBITRARY_USER],
  },
  {
    program: 'redis',
    repositories: ['redis'],
    runtimePaths: [
      {
        path: '/data',
        kind: 'dir',
        source: `${REDIS}: mkdir /data && chown redis:redis /data, WORKDIR /data (redis writes dump.rdb and appendonlydir to its working directory); ${REDIS_ENTRYPOINT} gives it to redis only when started as root`,
      },
    ],
    volumes: ['/data'],
    volumeHint:
      'copy in a redis.conf whose `dir` is a directory of its own (e.g. `dir /var/lib/redis`): the closing step gives that one to the user; or mount a volume the UID can write at /data (Kubernetes: securityContext.fsGroup)',
    port: { number: 6379, source: `${REDIS}: EXPOSE 6379` },
    config: { paths: /\.conf$/, syntax: 'redis' },
    notes: ['the entrypoint steps down with gosu only when started as root; as another UID it runs redis-server as that UID'],
    sources: [REDIS, REDIS_ENTRYPOINT],
  },
  {
    program: 'memcached',
    repositories: ['memcached'],
    runtimePaths: [],
    volumes: [],
    port: { number: 11211, source: `${MEMCACHED}: EXPOSE 11211` },
    notes: ['nothing to own: memcached keeps everything in memory and writes no pid file; the image already ends in USER memcache (11211)'],
    sources: [MEMCACHED],
  },
  {
    // 18 moved PGDATA; `latest` and the bare variant tags follow the newest major.
    ...postgresServer(
      POSTGRES_18,
      '/var/lib/postgresql',
      'PGDATA /var/lib/postgresql/18/docker under VOLUME /var/lib/postgresql',
      'mount a volume the UID can write at /var/lib/postgresql (Kubernetes: securityContext.fsGroup), or set ENV PGDATA to a directory outside it, which the closing step gives to the user',
    ),
    tags: /^(?:1[89](?:$|[.-])|latest$|alpine|trixie$|$)/,
  },
  {
    ...postgresServer(
      POSTGRES,
      '/var/lib/postgresql/data',
      'ENV PGDATA /var/lib/postgresql/data, chmod 1777 at build, chmod 700 by the entrypoint',
      'set ENV PGDATA=/var/lib/postgresql/data/pgdata: the image made /var/lib/postgresql/data chmod 1777, so the entrypoint creates that sub-directory as the UID (the documented way for --user); or mount a volume the UID can write',
    ),
    worldWritable: ['/var/lib/postgresql/data'],
  },
  {
    program: 'MySQL',
    repositories: ['mysql'],
    runtimePaths: [],
    volumes: ['/var/lib/mysql'],
    port: { number: 3306, source: `${MYSQL}: EXPOSE 3306 33060` },
    notes: [
      'nothing to own: /var/lib/mysql and /var/run/mysqld are chmod 1777 in the image, "regardless of the UID our mysqld instance ends up having at runtime"',
    ],
    sources: [MYSQL],
  },
  {
    program: 'MariaDB',
    repositories: ['mariadb'],
    runtimePaths: [
      {
        path: '/var/lib/mysql',
        kind: 'dir',
        source: `${MARIADB}: mkdir -p /var/lib/mysql /run/mysqld && chown -R mysql:mysql /var/lib/mysql /run/mysqld; VOLUME /var/lib/mysql`,
      },
    ],
    volumes: ['/var/lib/mysql'],
    volumeHint:
      'mount a volume the UID can write at /var/lib/mysql (Kubernetes: securityContext.fsGroup), or pass --datadir=<a directory of its own> in CMD',
    port: { number: 3306, source: `${MARIADB}: EXPOSE 3306` },
    notes: ['/run/mysqld (socket and pid file) is chmod 1777 in the image'],
    sources: [MARIADB],
  },
  {
    program: 'MongoDB',
    repositories: ['mongo'],
    runtimePaths: [
      {
        path: '/data/db',
        kind: 'dir',
        source: `${MONGO}: mkdir -p /data/db /data/configdb && chown -R mongodb:mongodb, VOLUME /data/db /data/configdb`,
      },
      { path: '/data/configdb', kind: 'dir', source: `${MONGO}: VOLUME /data/db /data/configdb` },
    ],
    volumes: ['/data/db', '/data/configdb'],
    volumeHint:
      'mount volumes the UID can write at /data/db and /data/configdb (Kubernetes: securityContext.fsGroup), or pass --dbpath <a directory of its own> in CMD',
    port: { number: 27017, source: `${MONGO}: EXPOSE 27017` },
    notes: ['the entrypoint steps down with gosu only when started as root'],
    sources: [MONGO],
  },
  {
    program: 'Tomcat',
    repositories: ['tomcat'],
    runtimePaths: [
      {
        path: '/usr/local/tomcat/webapps',
        kind: 'dir',
        source: `${TOMCAT_HOST}: unpackWARs (true in the image's server.xml) expands each WAR into the Host's appBase, webapps, at start`,
      },
    ],
    volumes: [],
    port: { number: 8080, source: `${TOMCAT}: EXPOSE 8080` },
    notes: ["logs, temp and work under $CATALINA_HOME are chmod 1777 in the image; webapps is root's, where Tomcat expands the WARs"],
    sources: [TOMCAT, TOMCAT_HOST],
  },
  {
    program: 'Caddy',
    repositories: ['caddy'],
    runtimePaths: [
      {
        path: '/config/caddy',
        kind: 'dir',
        source: `${CADDY}: ENV XDG_CONFIG_HOME /config, mkdir -p /config/caddy, chmod -R g=u (root's group, which PEAK_USER_ID is not in); ${CADDY_CONVENTIONS} (autosave.json)`,
      },
      {
        path: '/data/caddy',
        kind: 'dir',
        source: `${CADDY}: ENV XDG_DATA_HOME /data, mkdir -p /data/caddy, chmod -R g=u (certificates, locks)`,
      },
    ],
    volumes: [],
    envPaths: [
      { name: 'XDG_CONFIG_HOME', replaces: '/config/caddy', suffix: '/caddy' },
      { name: 'XDG_DATA_HOME', replaces: '/data/caddy', suffix: '/caddy' },
    ],
    port: { number: 80, source: `${CADDY}: EXPOSE 80 443 2019 and the default Caddyfile \`:80\``, file: '/etc/caddy/Caddyfile' },
    notes: [
      `the caddy binary has cap_net_bind_service (setcap), so 80 and 443 bind as any UID unless the runtime drops that capability; otherwise ${LOW_PORT_NOTE}`,
    ],
    sources: [CADDY, CADDY_CONVENTIONS, CADDY_ROOTLESS],
  },
];

/**
 * Servers a stage installs from its distribution's packages and starts by name (`apt-get install redis-server`,
 * `CMD ["redis-server", "/etc/redis/redis.conf"]`): their copied configuration is read the same way, though the
 * image's layout is the package's, not an official image's, so no run-time path of the table above applies.
 */
export const STARTED_SERVERS: { command: RegExp; server: ServerImage }[] = [
  { command: /(?:^|[\s"'/[,])redis-server(?=$|[\s"',\]])/, server: SERVER_IMAGES.find((s) => s.program === 'redis') as ServerImage },
  {
    command: /(?:^|[\s"'/[,])nginx(?=$|[\s"',\]])/,
    server: SERVER_IMAGES.find((s) => s.program === 'nginx' && s.repositories.includes('nginx')) as ServerImage,
  },
];

/** The server image an image reference names (ARG defaults already substituted), or undefined. */
export function findServerImage(reference: string): ServerImage | undefined {
  const ref = parseReference(reference);
  const { repository } = ref;
  const tag = ref.tag.toLowerCase();
  const rows = SERVER_IMAGES.filter((row) => row.repositories.includes(repository));
  return rows.find((row) => row.tags?.test(tag)) ?? rows.find((row) => !row.tags && !(repository === 'php'));
}

/** A line of a configuration file copied in from the build context. */
export interface ConfigLine {
  /** The file's path in the build context. */
  file: string;
  /** 1-based. */
  line: number;
  text: string;
}

/** What a server's own configuration file, copied in by the Dockerfile, says about running as non-root. */
export interface ConfiguredServer {
  /** Run-time paths the configuration sets, each with the config line as its source. */
  paths: RuntimePath[];
  /** Default run-time paths the configuration moves elsewhere (e.g. the pid file). */
  replaced: string[];
  /** Ports it listens on. */
  ports: { port: number; at: ConfigLine }[];
  /** A directive that only makes sense for a root start (`user nginx;`). */
  userDirectives: ConfigLine[];
}

/** Directories any user can write (sticky, world-writable): nothing to give away there. */
const SHARED_TMP = /^\/(tmp|var\/tmp|dev\/shm)(\/|$)/;

/** A literal absolute path we can safely name in a shell line. */
function plainAbsolute(path: string): boolean {
  return /^\/[A-Za-z0-9._@+\-/]*$/.test(path) && !path.split('/').includes('..');
}

function unquote(value: string): string {
  return value.replace(/^(["'])(.*)\1$/, '$2');
}

/**
 * Reads the run-time paths, ports and root-only directives out of configuration files copied in from the build
 * context. `files` maps the file's path in the image to its text and its path in the context.
 */
export function readServerConfig(server: ServerImage, files: ReadonlyMap<string, { text: string; file: string }>): ConfiguredServer {
  const result: ConfiguredServer = { paths: [], replaced: [], ports: [], userDirectives: [] };
  const config = server.config;
  if (!config) return result;
  const readLine = CONFIG_READERS[config.syntax];
  for (const [imagePath, { text, file }] of files) {
    if (!config.paths.test(imagePath)) continue;
    if (config.syntax === 'redis' && !/redis/i.test(imagePath) && !/^\s*(appendonly|dir|save)\s/m.test(text)) continue;
    text.split(/\r\n|\r|\n/).forEach((raw, index) => {
      const content = raw.replace(/#.*$/, '').trim();
      if (content) readLine(content, { file, line: index + 1, text: raw.trim() }, result);
    });
  }
  return result;
}

/** Reads one configuration line (comment removed, not empty) into what the server's configuration says. */
type ConfigLineReader = (content: string, at: ConfigLine, result: ConfiguredServer) => void;

/** A run-time path a line names, with the line as its source; not a shared temporary directory, nor a path we cannot name. */
function addPath(result: ConfiguredServer, at: ConfigLine, path: string, kind: RuntimePath['kind']): void {
  if (plainAbsolute(path) && !SHARED_TMP.test(path)) result.paths.push({ path, kind, source: `${at.file}:${at.line}: ${at.text}` });
}

function readNginxLine(content: string, at: ConfigLine, result: ConfiguredServer): void {
  const directive = /^([a-z_]+)\s+([^;]*);?/.exec(content);
  if (!directive) return;
  const [, name, value] = directive;
  const first = unquote(value.trim().split(/\s+/)[0] ?? '');
  if (name === 'pid') {
    result.replaced.push('/var/run/nginx.pid');
    addPath(result, at, first, 'file');
  } else if (/^(client_body|proxy|fastcgi|uwsgi|scgi)_temp_path$/.test(name)) {
    addPath(result, at, first, 'dir');
  } else if (name === 'user') {
    result.userDirectives.push(at);
  } else if (name === 'listen') {
    const port = /(?:^|:)(\d{1,5})$/.exec(first)?.[1];
    if (port) result.ports.push({ port: Number(port), at });
  }
}

function readRedisLine(content: string, at: ConfigLine, result: ConfiguredServer): void {
  const [name, value = ''] = content.split(/\s+/, 2);
  const path = unquote(value);
  if (name.toLowerCase() === 'dir') {
    // The data directory moves: the image's /data is no longer where redis writes.
    result.replaced.push('/data');
    addPath(result, at, path, 'dir');
  } else if (name.toLowerCase() === 'pidfile') {
    addPath(result, at, path, 'file');
  } else if (name.toLowerCase() === 'logfile' && path !== '') {
    addPath(result, at, path, 'file');
  } else if (name.toLowerCase() === 'port' && /^\d+$/.test(path)) {
    result.ports.push({ port: Number(path), at });
  }
}

function readHttpdLine(content: string, at: ConfigLine, result: ConfiguredServer): void {
  const [name, value = ''] = content.split(/\s+/, 2);
  const path = unquote(value.trim());
  if (/^pidfile$/i.test(name)) {
    // A relative PidFile is under ServerRoot, whose logs directory is already listed.
    if (path.startsWith('/')) addPath(result, at, path, 'file');
  } else if (/^user$/i.test(name)) {
    result.userDirectives.push(at);
  } else if (/^listen$/i.test(name)) {
    const port = /(?:^|:)(\d{1,5})(?:\s|$)/.exec(path)?.[1];
    if (port) result.ports.push({ port: Number(port), at });
  }
}

const CONFIG_READERS: Record<ConfigSyntax, ConfigLineReader> = { nginx: readNginxLine, redis: readRedisLine, httpd: readHttpdLine };

/**
 * The run-time paths to give the user for a stage built on `reference`: the image's own, minus those its copied
 * configuration moves, plus those the configuration names. Empty for images that are not servers.
 */
export function serverRuntimePaths(
  reference: string,
  configured?: ConfiguredServer,
  env: ReadonlyMap<string, string> = new Map(),
): RuntimePath[] {
  const server = findServerImage(reference);
  if (!server) return [];
  const replaced = new Set(configured?.replaced ?? []);
  const fromEnv: RuntimePath[] = [];
  for (const { name, replaces, suffix = '' } of server.envPaths ?? []) {
    const value = env.get(name);
    if (value === undefined) continue;
    replaced.add(replaces);
    const path = value.replace(/\/+$/, '') + suffix;
    // Below a directory any UID may write (postgres' 1777 data directory), the program makes it as the UID itself.
    const madeByProgram = (server.worldWritable ?? []).some((w) => path.startsWith(w + '/'));
    if (plainAbsolute(path) && !SHARED_TMP.test(path) && !madeByProgram)
      fromEnv.push({ path, kind: 'dir', source: `ENV ${name}=${value}` });
  }
  const paths = [...server.runtimePaths.filter((p) => !replaced.has(p.path)), ...fromEnv, ...(configured?.paths ?? [])];
  const seen = new Set<string>();
  return paths.filter((p) => !seen.has(p.path) && seen.add(p.path));
}

/** The base image `VOLUME` a path lies in, if any: a child image's RUN cannot change it there (legacy builder). */
export function volumeHolding(server: ServerImage, path: string): string | undefined {
  return server.volumes.find((v) => path === v || path.startsWith(v + '/'));
}
