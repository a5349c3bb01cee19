/**
 * The ownership policy's data: which paths belong to the operating system, a runtime or a tool chain, and so are
 * never given to the user (src/model/dirs.ts `classifyPath` applies it). The Filesystem Hierarchy Standard names
 * the system trees (https://refspecs.linuxfoundation.org/FHS_3.0/fhs/index.html: /usr, /usr/local and its
 * bin, etc, games, include, lib, libexec, man, sbin, share; /opt/<package> for add-on software), and Red Hat's
 * container guidelines /licenses, where images keep their license texts; the runtime trees
 * are where the official and vendor images install their interpreters and tool chains (the catalog's sources:
 * golang's /usr/local/go, eclipse-temurin's /opt/java/openjdk, PowerShell's /opt/microsoft/powershell, pypy's
 * /opt/pypy, conda's /opt/conda, tomcat's /usr/local/tomcat, httpd's /usr/local/apache2).
 */

/**
 * The operating system's own directories whose whole tree is the system's, or scratch space every user shares: no
 * home may be in one (the closing step gives the user its home, and so what the system keeps there). What is made
 * below some of them (`/usr/local/app`, `/tmp/x`) may still be the application's: `classifyPath` decides that.
 */
export const NO_HOME_TREES: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/tmp',
  '/usr',
  '/var/backups',
  '/var/cache',
  '/var/log',
  '/var/mail',
  '/var/run',
  '/var/spool',
  '/var/tmp',
];

/** Directories that hold homes, add-on software or variable data (FHS): the system's, though what is below them may be the application's. */
const SHARED_DIRS = ['/home', '/media', '/mnt', '/opt', '/var', '/var/lib', '/var/local', '/var/opt'];

/**
 * Directories that hold other homes or data: a home may be below them, not one of them. /srv too, which holds the
 * data of the services (FHS): an application that works in /srv itself owns it, so it is not among SYSTEM_DIRS.
 */
export const HOME_PARENTS: ReadonlySet<string> = new Set([...SHARED_DIRS, '/srv']);

/** Directories that are the operating system's themselves (what is below them may be the application's). */
export const SYSTEM_DIRS: ReadonlySet<string> = new Set(['/', ...NO_HOME_TREES, ...SHARED_DIRS, '/licenses', '/usr/local']);

/** Trees that are the operating system's, everything below them included (the Nix and Guix stores: its packages). */
export const SYSTEM_TREES =
  /^\/(bin|sbin|lib|lib32|lib64|libx32|boot|licenses|nix|gnu\/store|usr\/(bin|sbin|lib|lib32|lib64|libexec|include|share|games)|usr\/local\/(bin|sbin|lib|lib64|libexec|include|share|etc|man|games))(\/|$)/;

/** Configuration and trust: never given away, whatever is below. */
export const TRUST_TREES = /^\/etc(\/|$)|\/keyrings(\/|$)|^\/usr(\/local)?\/share\/ca-certificates(\/|$)/;

export const KERNEL_TREES = /^\/(proc|sys|dev)(\/|$)/;

/**
 * A package's own data directory under /usr/share (FHS: "architecture-independent data" of each package): a
 * system tree, unless the original gives it to its own runtime user, as the jenkins image does with
 * /usr/share/jenkins/ref, where plugins are installed. The operating system's shared trees are never such.
 */
export const PACKAGE_DATA_TREES =
  /^\/usr(\/local)?\/share\/(?!(doc|man|info|locale|i18n|zoneinfo|fonts|icons|X11|misc|perl5?|pixmaps|applications|mime|terminfo|common-licenses|ca-certificates|keyrings|pki|lintian|bash-completion|python3?|java|dbus-1|polkit-1|systemd|debconf|dpkg|gnupg)(\/|$))[^/]+(\/|$)/;

/**
 * Where runtimes and tool chains are installed: the interpreter, compiler or server the application runs on, not
 * the application. `/usr/local/<name>` and `/opt/<name>` by name (`/usr/local/app`, `/opt/app` stay the
 * application's), every `/opt/rh` software collection, `/opt/venv`, a virtual environment the build fills, and
 * `/usr/local/bundle`, where the official ruby image installs gems (its BUNDLE_PATH and GEM_HOME).
 */
export const RUNTIME_TREES =
  /^\/(usr\/local|opt)\/(go|golang|cuda[^/]*|nvidia|tomcat|apache2|openjdk[^/]*|java|jdk[^/]*|jre[^/]*|julia[^/]*|node|nodejs|python[0-9.]*|pypy[^/]*|ruby|rust|cargo|rustup|gradle|maven|sbt|spark|hadoop|kafka|flink|zookeeper|solr|conda|miniconda[^/]*|anaconda[^/]*|miniforge[^/]*|mambaforge|micromamba|mamba|microsoft|dotnet|powershell|pwsh|bitnami|intel|rocm|google|chrome|firefox|pipx|poetry|uv|venv|bundle|rh|R|r)(\/|$)/;

/**
 * Variables that name where a runtime or tool chain lives: a COPY or mkdir into `$JAVA_HOME` installs a runtime,
 * whatever the value. `APP_HOME`-like names are the application's and are not here.
 */
export const RUNTIME_VARIABLES: ReadonlySet<string> = new Set([
  'ANDROID_HOME',
  'ANDROID_SDK_ROOT',
  'CARGO_HOME',
  'CATALINA_HOME',
  'CONDA_DIR',
  'CONDA_HOME',
  'CONDA_PREFIX',
  'CUDA_HOME',
  'DOTNET_ROOT',
  'FLINK_HOME',
  'GEM_HOME',
  'GOPATH',
  'GOROOT',
  'GRADLE_HOME',
  'HADOOP_HOME',
  'JAVA_HOME',
  'JDK_HOME',
  'JETTY_HOME',
  'JRE_HOME',
  'JULIA_PATH',
  'KAFKA_HOME',
  'M2_HOME',
  'MAMBA_ROOT_PREFIX',
  'MAVEN_HOME',
  'NODE_HOME',
  'NVM_DIR',
  'PHP_INI_DIR',
  'PIPX_HOME',
  'POETRY_HOME',
  'PYENV_ROOT',
  'RUSTUP_HOME',
  'SBT_HOME',
  'SPARK_HOME',
  'STI_SCRIPTS_PATH',
  'VIRTUAL_ENV',
]);

/**
 * Path segments of trees a program reads and runs but does not write: a directory made there is not one it writes.
 * /var holds variable data (FHS), so its `lib` is not one.
 */
export const TOOL_SEGMENTS = /^(?!\/var\/)(.*\/)?(bin|sbin|lib|lib32|lib64|libexec|include)(\/|$)/;

export function isSystemDir(path: string): boolean {
  return classifyPath(path, '') !== 'app';
}

/**
 * The ownership policy, one place for every transform: application directories may go to the user; the
 * operating system, runtimes and tool chains, trust and configuration stores, the kernel's file systems, root's
 * home and other users' homes never do (they are reported instead).
 */
export type PathClass = 'app' | 'system' | 'trust' | 'kernel' | 'root-home' | 'other-home';

export function classifyPath(path: string, home: string): PathClass {
  const p = normaliseAbsolute(path);
  const h = home ? normaliseAbsolute(home) : '';
  if (h && (p === h || p.startsWith(h + '/'))) return 'app';
  if (KERNEL_TREES.test(p)) return 'kernel';
  if (p === '/root' || p.startsWith('/root/')) return 'root-home';
  if (TRUST_TREES.test(p)) return 'trust';
  if (SYSTEM_DIRS.has(p) || SYSTEM_TREES.test(p) || RUNTIME_TREES.test(p)) return 'system';
  if (/^\/home\/[^/]+/.test(p)) return 'other-home';
  return 'app';
}

/** `//etc`, `/etc/.` and `/a/../etc` all mean `/etc`: the policy is applied to the path Docker uses. */
export function normaliseAbsolute(path: string): string {
  const trimmed = path.trim().replace(/^["']|["']$/g, '');
  return joinPath('/', trimmed);
}

/** A literal absolute path we can safely name in a shell line: no variables, globs or odd characters. */
export function isPlainAbsolute(path: string): boolean {
  return /^\/[A-Za-z0-9._@+\-/]*$/.test(path);
}

export function joinPath(base: string, relative: string): string {
  const parts = (base + '/' + relative).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}
