/**
 * Facts of a Dockerfile's final stage, each with the line it was read on (1-based): the base image (ARG defaults
 * substituted, FROM <earlier stage> followed), the last USER, the users and groups created (users in the order the
 * Dockerfile creates, changes (usermod -u) or removes them (userdel, `removed: true`)), the package managers
 * used, the packages of interest installed (shadow for useradd, findutils for find), and for FROM scratch whether
 * a root filesystem is added or only files without a shell.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { getopt, simpleCommands } from './shell.js';

const PACKAGE_MANAGERS = {
  'apt-get': 'apt',
  apt: 'apt',
  aptitude: 'apt',
  apk: 'apk',
  dnf: 'dnf',
  dnf5: 'dnf',
  microdnf: 'microdnf',
  yum: 'yum',
  tdnf: 'tdnf',
  zypper: 'zypper',
  pacman: 'pacman',
  swupd: 'swupd',
};
/** Packages whose installation changes what the image can do. */
const PACKAGES_OF_INTEREST = new Set(['shadow', 'shadow-utils', 'findutils', 'passwd']);
const INSTALL_VERBS = new Set(['install', 'add', 'in', 'bundle-add', '-S', '-Sy', '-Syu']);

const USERADD = {
  short: {
    b: true,
    c: true,
    d: true,
    e: true,
    f: true,
    g: true,
    G: true,
    k: true,
    K: true,
    p: true,
    R: true,
    P: true,
    s: true,
    u: true,
    Z: true,
  },
  long: {
    'base-dir': true,
    comment: true,
    'home-dir': true,
    expiredate: true,
    inactive: true,
    gid: true,
    groups: true,
    skel: true,
    key: true,
    password: true,
    root: true,
    prefix: true,
    shell: true,
    uid: true,
    'selinux-user': true,
    'selinux-range': true,
    defaults: false,
    'no-log-init': false,
    'create-home': false,
    'no-create-home': false,
    'no-user-group': false,
    'non-unique': false,
    system: false,
    'user-group': false,
    help: false,
    'btrfs-subvolume-home': false,
  },
  alias: { u: 'uid', d: 'home-dir', g: 'gid', r: 'system' },
};
const GROUPADD = {
  short: { g: true, K: true, p: true, R: true, P: true, U: true },
  long: {
    gid: true,
    key: true,
    password: true,
    root: true,
    prefix: true,
    users: true,
    force: false,
    'non-unique': false,
    system: false,
    help: false,
  },
  alias: { g: 'gid', r: 'system' },
};
/** BusyBox adduser (short options) and Debian's adduser (long options). */
const ADDUSER = {
  short: { h: true, g: true, s: true, G: true, u: true, k: true },
  long: {
    home: true,
    shell: true,
    uid: true,
    gid: true,
    gecos: true,
    comment: true,
    ingroup: true,
    firstuid: true,
    lastuid: true,
    firstgid: true,
    lastgid: true,
    conf: true,
    system: false,
    group: false,
    'disabled-password': false,
    'disabled-login': false,
    'no-create-home': false,
    quiet: false,
    debug: false,
    'force-badname': false,
    'allow-badname': false,
    'allow-bad-names': false,
    'add-extra-groups': false,
    add_extra_groups: false,
    'encrypt-home': false,
  },
  alias: { u: 'uid', h: 'home' },
};
const ADDGROUP = {
  short: { g: true },
  long: {
    gid: true,
    conf: true,
    system: false,
    quiet: false,
    debug: false,
    'force-badname': false,
    'allow-badname': false,
    'allow-bad-names': false,
  },
  alias: { g: 'gid' },
};
const USERMOD = {
  short: { c: true, d: true, e: true, f: true, g: true, G: true, l: true, p: true, R: true, P: true, s: true, u: true, Z: true },
  long: {
    uid: true,
    'home-dir': true,
    gid: true,
    groups: true,
    login: true,
    shell: true,
    comment: true,
    root: true,
    prefix: true,
    password: true,
  },
  alias: { u: 'uid' },
};
const GROUPMOD = { short: { g: true, n: true, p: true, R: true, P: true }, long: { gid: true, 'new-name': true }, alias: { g: 'gid' } };
/** userdel (shadow) and deluser (Debian, BusyBox). */
const USERDEL = { short: { R: true, P: true }, long: { root: true, prefix: true, conf: true, 'backup-to': true } };

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

function asId(word) {
  if (!word || !word.resolved || !/^\d+$/.test(word.text)) return undefined;
  const n = Number(word.text);
  return n <= 2147483647 ? n : undefined;
}

/** Lines of an instruction: its first line (0-based) in the document. */
function startLine(instruction) {
  return instruction.getRange().start.line;
}

/** The script of a RUN instruction and the 0-based document line it starts on. */
function runScript(instruction) {
  const raw = instruction.getRawArgumentsContent() ?? '';
  const line = startLine(instruction);
  // exec form: ["sh", "-c", "script"] or a plain argv
  if (raw.trim().startsWith('[')) {
    try {
      const argv = JSON.parse(raw.replace(/\\\n/g, ''));
      if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) {
        const c = argv.indexOf('-c');
        if (c >= 0 && c + 1 < argv.length) return { script: argv[c + 1], line, lineOf: () => line };
        return { script: argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), line, lineOf: () => line };
      }
    } catch {
      // not JSON: a shell line that starts with [
    }
  }
  // flags (--mount=..., --network=...) before the script
  let text = raw;
  let skipped = 0;
  for (;;) {
    const m = /^\s*--[A-Za-z-]+(=("[^"]*"|\S*))?\s*/.exec(text);
    if (!m || m[0] === '') break;
    skipped += m[0].length;
    text = text.slice(m[0].length);
  }
  // heredoc: RUN <<EOF ... EOF
  const here = /^<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?[^\n]*\n/.exec(text);
  if (here) {
    const body = text.slice(here[0].length);
    const endRe = new RegExp(`\\n\\s*${here[1]}\\s*$`);
    const offsetBase = skipped + here[0].length;
    return {
      script: body.replace(endRe, '\n'),
      line,
      lineOf: (offset) => line + countNewlines(raw, offsetBase + offset),
    };
  }
  // comment lines inside a continued instruction are dropped by Docker (with their newline): drop them, and map
  // offsets in what is left back to the raw text for line numbers
  const segments = [];
  let script = '';
  let rawAt = skipped;
  for (const piece of text.split(/(?<=\n)/)) {
    if (!/^[ \t]*#/.test(piece) || segments.length === 0) {
      segments.push({ at: script.length, raw: rawAt });
      script += piece;
    }
    rawAt += piece.length;
  }
  const lineOf = (offset) => {
    let seg = segments[0];
    for (const s of segments) {
      if (s.at > offset) break;
      seg = s;
    }
    return line + countNewlines(raw, seg.raw + (offset - seg.at));
  };
  return { script, line, lineOf };
}

function countNewlines(text, end) {
  let count = 0;
  for (let k = 0; k < end && k < text.length; k++) if (text[k] === '\n') count++;
  return count;
}

/** Substitutes $VAR, ${VAR}, ${VAR:-default} of `vars` into a Dockerfile word; unresolved ones stay. */
export function substitute(text, vars) {
  let resolved = true;
  const out = text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (all, braced, op, word, bare) => {
      const name = braced ?? bare;
      const value = vars[name];
      if (!op) {
        if (value === undefined) {
          resolved = false;
          return all;
        }
        return value;
      }
      const set = value !== undefined && (op.startsWith(':') ? value !== '' : true);
      if (op.endsWith('-')) return set ? value : word;
      return set ? word : '';
    },
  );
  return { text: out, resolved };
}

/** ENV and ARG values declared by one instruction. */
function declared(instruction, vars, globalArgs) {
  const keyword = instruction.getKeyword();
  const out = {};
  if (keyword === 'ENV') {
    for (const p of instruction.getProperties()) {
      const name = p.getName();
      const value = p.getValue();
      if (value === null) continue;
      const v = substitute(value, { ...vars, ...out });
      out[name] = v.resolved ? v.text : undefined;
    }
  } else if (keyword === 'ARG') {
    for (const p of instruction.getProperties?.() ?? (instruction.getProperty() ? [instruction.getProperty()] : [])) {
      const name = p.getName();
      const value = p.getValue();
      if (value !== null && value !== undefined) {
        const v = substitute(value, { ...vars, ...out });
        out[name] = v.resolved ? v.text : undefined;
      } else if (globalArgs[name] !== undefined) {
        out[name] = globalArgs[name];
      } else if (!(name in vars)) {
        out[name] = undefined;
      }
    }
  }
  return out;
}

/**
 * Reads a Dockerfile. Returns the facts of its final stage, or `{ error }` when it cannot be read.
 * `from.image` is the final stage's base as written with ARG defaults substituted (`scratch` included).
 */
export function dockerfileFacts(text) {
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const globalArgs = {};
  const stages = [];
  let current = null;
  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      current = { from: instruction, name: instruction.getBuildStage()?.toLowerCase() ?? null, instructions: [] };
      stages.push(current);
      continue;
    }
    if (!current) {
      if (keyword === 'ARG') Object.assign(globalArgs, declared(instruction, globalArgs, {}));
      continue;
    }
    current.instructions.push(instruction);
  }
  if (stages.length === 0) return { error: 'no FROM instruction' };

  // the chain of stages the final one is built on, base first
  const chain = [];
  let stage = stages[stages.length - 1];
  const seen = new Set();
  let base = null;
  while (stage && !seen.has(stage)) {
    seen.add(stage);
    chain.unshift(stage);
    const written = stage.from.getImage() ?? '';
    const image = substitute(written, globalArgs);
    const index = stages.indexOf(stage);
    const parent = stages
      .slice(0, index)
      .reverse()
      .find((s) => s.name !== null && s.name === image.text.toLowerCase());
    const byNumber = /^\d+$/.test(image.text) ? stages[Number(image.text)] : undefined;
    if (parent || (byNumber && stages.indexOf(byNumber) < index)) {
      stage = parent ?? byNumber;
      continue;
    }
    base = { image: image.text, line: startLine(stage.from) + 1 };
    if (!image.resolved) base.unresolved = true;
    const platform = stage.from.getPlatformFlag?.()?.getValue?.();
    if (platform) base.platform = platform;
    break;
  }

  const facts = { from: base };
  const users = [];
  const groups = [];
  const packageManagers = new Map();
  const installs = new Map();
  let user = null;
  let hasRun = false;
  let rootfs = null;
  let vars = {};

  for (const s of chain) {
    for (const instruction of s.instructions) {
      const keyword = instruction.getKeyword();
      const line = startLine(instruction);
      if (keyword === 'ENV' || keyword === 'ARG') {
        vars = { ...vars, ...declared(instruction, vars, globalArgs) };
        continue;
      }
      if (keyword === 'USER') {
        const raw = (instruction.getArgumentsContent() ?? '').trim();
        const v = substitute(raw, vars);
        user = { value: v.text, line: line + 1 };
        if (!v.resolved) user.unresolved = true;
        continue;
      }
      if (keyword === 'ADD' || keyword === 'COPY') {
        const args = instruction.getArguments().map((a) => a.getValue());
        const plain = args.filter((a) => !a.startsWith('--'));
        const fromStage = args.some((a) => a.startsWith('--from='));
        const dest = plain[plain.length - 1];
        const sources = plain.slice(0, -1);
        const archive = keyword === 'ADD' && sources.some((src) => /\.(tar(\.[a-z0-9]+)?|tgz|txz|tbz2?)$/i.test(src));
        const tree = fromStage && dest === '/' && sources.some((src) => src.endsWith('/'));
        if ((archive || tree) && !rootfs) rootfs = { line: line + 1 };
        continue;
      }
      if (keyword !== 'RUN') continue;
      hasRun = true;
      const { script, lineOf } = runScript(instruction);
      const env = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined));
      for (const command of simpleCommands(script, env)) {
        readCommand(command.words, lineOf(command.offset) + 1, { users, groups, packageManagers, installs });
      }
    }
  }

  if (user) facts.user = user;
  if (users.length > 0) facts.users = users;
  if (groups.length > 0) facts.groups = groups;
  if (packageManagers.size > 0) facts.packageManagers = [...packageManagers.entries()].map(([name, line]) => ({ name, line }));
  if (installs.size > 0) facts.installs = [...installs.entries()].map(([name, line]) => ({ package: name, line }));
  if (base && base.image.toLowerCase() === 'scratch') {
    facts.scratch = rootfs
      ? { rootfs: true, line: rootfs.line }
      : hasRun
        ? { rootfs: false, shell: 'unknown' }
        : { rootfs: false, shell: false };
  }
  return facts;
}

function readCommand(words, line, out) {
  const name = words[0].text.replace(/^.*\//, '');
  const args = words.slice(1);
  const manager = PACKAGE_MANAGERS[name];
  if (manager) {
    if (!out.packageManagers.has(manager)) out.packageManagers.set(manager, line);
    const verbIndex = args.findIndex((a) => !a.text.startsWith('-') || INSTALL_VERBS.has(a.text));
    // apk add --virtual .build-deps ...: removed again with apk del
    const virtual = manager === 'apk' && args.some((a) => a.text === '--virtual' || a.text === '-t' || a.text.startsWith('--virtual='));
    if (!virtual && verbIndex >= 0 && INSTALL_VERBS.has(args[verbIndex].text)) {
      for (const a of args.slice(verbIndex + 1)) {
        const pkg = a.text.replace(/[=:<>~].*$/, '').replace(/-[0-9][^-]*$/, '');
        if (PACKAGES_OF_INTEREST.has(pkg) && !out.installs.has(pkg)) out.installs.set(pkg, line);
      }
    }
    return;
  }
  if (name === 'useradd' || name === 'adduser') {
    const { options, positional } = getopt(args, name === 'useradd' ? USERADD : ADDUSER);
    if (name === 'useradd' && (options.D || options.defaults)) return;
    if (name === 'adduser' && positional.length >= 2) return; // adduser USER GROUP: adds to a group
    if (name === 'adduser' && options.group && !options.system) {
      // Debian: adduser --group NAME is addgroup
      const group = positional[0];
      if (group && group.resolved && NAME.test(group.text)) pushGroup(out.groups, group.text, asId(options.gid), line, name);
      return;
    }
    const login = positional[positional.length - 1];
    if (!login || !login.resolved || !NAME.test(login.text)) return;
    const user = { name: login.text, line, via: name };
    const uid = asId(options.uid);
    if (uid !== undefined) user.uid = uid;
    else if (options.uid) user.uidUnresolved = options.uid.text;
    const home = name === 'useradd' ? options['home-dir'] : options.home;
    if (home && home.resolved && /^\/[A-Za-z0-9._@+/-]*$/.test(home.text)) user.home = home.text;
    out.users.push(user);
    if (name === 'adduser' && options.system && options.group) pushGroup(out.groups, login.text, asId(options.gid), line, name);
    return;
  }
  if (name === 'groupadd' || name === 'addgroup') {
    const { options, positional } = getopt(args, name === 'groupadd' ? GROUPADD : ADDGROUP);
    if (name === 'addgroup' && positional.length >= 2) return; // addgroup USER GROUP: adds to a group
    const group = positional[positional.length - 1];
    if (!group || !group.resolved || !NAME.test(group.text)) return;
    pushGroup(
      out.groups,
      group.text,
      asId(options.gid),
      line,
      name,
      options.gid && asId(options.gid) === undefined ? options.gid.text : undefined,
    );
    return;
  }
  if (name === 'userdel' || name === 'deluser') {
    const { positional } = getopt(args, USERDEL);
    if (positional.length !== 1) return; // deluser USER GROUP: removes from a group
    const target = positional[0];
    if (target.resolved && NAME.test(target.text)) out.users.push({ name: target.text, line, via: name, removed: true });
    return;
  }
  if (name === 'usermod' || name === 'groupmod') {
    const { options, positional } = getopt(args, name === 'usermod' ? USERMOD : GROUPMOD);
    const target = positional[positional.length - 1];
    if (!target || !target.resolved || !NAME.test(target.text)) return;
    if (name === 'usermod') {
      const uid = asId(options.uid);
      if (uid !== undefined) out.users.push({ name: target.text, uid, line, via: name });
    } else {
      const gid = asId(options.gid);
      if (gid !== undefined) pushGroup(out.groups, target.text, gid, line, name);
    }
  }
}

function pushGroup(groups, name, gid, line, via, unresolved) {
  const group = { name, line, via };
  if (gid !== undefined) group.gid = gid;
  else if (unresolved) group.gidUnresolved = unresolved;
  groups.push(group);
}
