import type { Instruction } from 'dockerfile-ast';
import { can } from '../src/facts/image.js';
import { argumentsText, instructionText, isRootUser, userValue } from '../src/model/dockerfile.js';
import { userBefore } from '../src/model/base.js';
import { expandQuoted, stageScope } from '../src/model/scope.js';
import { envPairs } from '../src/model/peak.js';
import { MENTIONS } from '../src/model/run.js';
import type { Command } from '../src/model/shell.js';
import { stageServer } from '../src/model/server.js';
import { finding, reportOnly, type Transform } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';

/**
 * Rules that only report: what breaks a non-root image but cannot be rewritten safely. Each looks at the
 * migrated stage's instructions as written.
 */

const PRIVILEGE_DROP = /(?:^|[\s"'[,;&|(])(gosu|su-exec|runuser|setpriv|chroot\s+--userspec|su)(?=["'\s,\]]|$)/;

export const privilegeDrop: Transform = {
  id: 'privilege-drop',
  summary: 'Reports entrypoints and commands that switch user themselves.',
  apply({ model, plan }) {
    const findings = plan.stage.instructions
      .filter((i) => ['CMD', 'ENTRYPOINT'].includes(i.getKeyword()))
      .flatMap((i) => {
        const match = PRIVILEGE_DROP.exec(argumentsText(model, i));
        return match
          ? [
              finding(
                'privilege-drop',
                i,
                `${i.getKeyword()} switches user with ${match[1]}, which fails once the container starts as a non-root user`,
              ),
            ]
          : [];
      });
    return { edits: [], findings };
  },
};

export const sudo: Transform = {
  id: 'sudo',
  summary: 'Reports sudo in RUN steps.',
  apply({ model, plan }) {
    const findings = plan.stage.instructions
      .filter((i) => plan.peak.mentioning(i, MENTIONS.sudo).commands.some((c) => c.name === 'sudo' || c.via.includes('sudo')))
      .map((i) => finding('sudo', i, 'RUN uses sudo: build steps run as root already, and peak-user has no sudo rights at run time'));
    return { edits: [], findings };
  },
};

/** What a command writes to root's home, read from its name and words (never from text in comments or strings). */
function rootHomeWriteOf(command: Command): string | null {
  const words = command.args.map((w) => w.literal ?? '');
  if (command.name === 'git' && words[0] === 'config' && words.includes('--global')) return 'git config --global';
  if (/^pip3?$/.test(command.name ?? '') && words[0] === 'install' && words.includes('--user')) return 'pip install --user';
  if (command.name === 'npm' && words[0] === 'config' && words[1] === 'set') return 'npm config set';
  // uv puts the interpreters it installs under ~/.local/share/uv/python unless told otherwise.
  if (
    command.name === 'uv' &&
    words[0] === 'python' &&
    words[1] === 'install' &&
    !words.includes('--install-dir') &&
    !words.some((w) => w.startsWith('--install-dir='))
  )
    return 'uv python install: ~/.local/share/uv/python';
  for (const w of command.args) {
    if (/^~(\/|$)/.test(w.raw)) return '~/';
    if (/\$\{?HOME\b/.test(w.raw)) return '$HOME';
    if (w.literal !== null && /^\/root(\/|$)/.test(w.literal)) return '/root';
  }
  return null;
}

export const rootHomeWrite: Transform = {
  id: 'root-home-write',
  summary: "Reports RUN steps run as root that write to root's home.",
  apply({ model, plan }) {
    const findings: Finding[] = [];
    plan.stage.instructions.forEach((i, index) => {
      if (i.getKeyword() !== 'RUN' || plan.peak.isPeakManaged(i)) return;
      if (!isRootUser(userBefore(model, plan.stage, index))) return;
      const hit = plan.peak
        .mentioning(i, MENTIONS.rootHome)
        .commands.map(rootHomeWriteOf)
        .find((h) => h !== null);
      if (hit) {
        findings.push(
          finding(
            'root-home-write',
            i,
            `RUN writes to root's home (${hit}); the process runs as ${plan.peak.options.user} with HOME=${plan.peak.options.home} and will not see it`,
            "install system-wide, or do it after USER so it lands in the user's home",
          ),
        );
      }
    });
    return { edits: [], findings };
  },
};

/** Shadow before 4.13 fills lastlog/faillog up to the UID unless useradd gets -l. */
const OLD_SHADOW_TAG =
  /(?:^|[-.:_])(?:jessie|stretch|buster|bullseye|xenial|bionic|focal|jammy|16\.04|18\.04|20\.04|22\.04|centos7|el7|el8|ubi8)(?:$|[-.:_])/;

export const oldShadow: Transform = reportOnly(
  'old-shadow-lastlog',
  'Reports useradd without -l on bases whose shadow is older than 4.13.',
  ({ model, plan }) => {
    const reference = plan.base.reference.toLowerCase();
    const tag = reference.slice(reference.lastIndexOf('/') + 1);
    const old = OLD_SHADOW_TAG.test(tag) || /^(ubuntu:(16|18|20|22)\.04|centos:7|rockylinux:8|almalinux:8|debian:(9|10|11))/.test(tag);
    if (!old) return [];
    return plan.stage.instructions.flatMap((i) => {
      if (i.getKeyword() !== 'RUN') return [];
      const text = instructionText(model, i);
      const useradd = /\buseradd\b([^;&|]*)/.exec(text);
      if (!useradd || /(?:^|\s)(?:-l|--no-log-init)\b|\s-[a-zA-Z]*l[a-zA-Z]*\s/.test(useradd[1])) return [];
      const uid = /(?:-u|--uid)[\s=]+"?([^\s"]+)/.exec(useradd[1])?.[1] ?? '';
      if (/^\d+$/.test(uid) && Number(uid) <= 60000) return [];
      return [
        finding(
          'old-shadow-lastlog',
          i,
          `useradd without -l on ${plan.base.reference} (shadow older than 4.13): a big UID fills lastlog and can make a multi-gigabyte image`,
          'add -l (--no-log-init) to useradd',
        ),
      ];
    });
  },
);

export const onbuild: Transform = reportOnly('onbuild', 'Reports ONBUILD triggers of a stage that now ends as the UID.', ({ plan }) =>
  plan.stage.instructions
    .filter((i) => i.getKeyword() === 'ONBUILD')
    .map((i) =>
      finding(
        'onbuild',
        i,
        `every image built FROM this one runs this ONBUILD step as $${plan.peak.options.uidArg}, not as root as before`,
        'add ONBUILD USER 0 before it, or USER 0 in the child images',
      ),
    ),
);

export const laterUsers: Transform = {
  id: 'uid-shift',
  summary: 'Reports users created after peak-user whose UID changes or may collide with the UID argument.',
  apply({ model, plan }) {
    const findings: Finding[] = [];
    const { stage, peak } = plan;
    const scope = stageScope(model, stage);
    // Only users created after the point where this run creates peak-user are renumbered.
    const from = plan.existingCreate >= 0 ? plan.existingCreate + 1 : plan.userFromParent ? Infinity : 0;
    stage.instructions.forEach((i, index) => {
      if (index < from || i.getKeyword() !== 'RUN') return;
      for (const created of peak.mentioning(i, MENTIONS.creates).creates) {
        if (created.name === peak.options.user) continue;
        const system = peak
          .run(i)
          .commands.some(
            (c) => (c.name === 'useradd' || c.name === 'adduser') && c.args.some((w) => /^(-r|--system|-S)$/.test(w.literal ?? '')),
          );
        if (created.uid === null && !system) {
          findings.push(
            finding(
              'uid-shift',
              i,
              `${created.name} is created without -u after ${peak.options.user}, so it gets the next free UID: one higher than in the original image`,
              `pin its UID (e.g. -u 1000) if anything refers to it by number`,
            ),
          );
        } else {
          // `--uid "${NB_UID}"` with `ARG NB_UID="1000"`: the UID Docker's ARG and ENV values make of it.
          const uid = created.uid?.literal ?? (created.uid ? expandQuoted(created.uid.raw, scope.valuesAt(index)) : null);
          if (uid && /^\d+$/.test(uid) && Number(uid) >= 1000) {
            const name = created.name.includes('$') ? (expandQuoted(created.name, scope.valuesAt(index)) ?? created.name) : created.name;
            findings.push(
              finding(
                'uid-conflict',
                i,
                `${name} takes the fixed UID ${uid}: the build fails when ${peak.options.uidArg} is ${uid}`,
                `add -o to share it, or make sure Peak never passes ${uid}`,
              ),
            );
          }
        }
      }
    });
    return { edits: [], findings };
  },
};

/**
 * A search path with an entry under /root: `LD_LIBRARY_PATH=$LD_LIBRARY_PATH:/root/.local/share/uv/python/…/lib`
 * (a runtime installed for root: the program cannot load it), `PATH=$PATH:/root/.local/bin` (tools it may not need).
 */
function searchPathFindings(i: Instruction, name: string, value: string, uidArg: string): Finding[] {
  if (!/PATH$/.test(name)) return [];
  const entries = value
    .replace(/^"|"$/g, '')
    .split(':')
    .filter((entry) => /^\/root(\/|$)/.test(entry));
  if (entries.length === 0) return [];
  const program = name !== 'PATH';
  return [
    finding(
      'root-home-path',
      i,
      `ENV ${name} looks in ${entries.join(', ')}, under /root (0700 root): ${program ? `the program, running as $${uidArg}, cannot load what is there` : `commands run as $${uidArg} cannot reach what is there`}`,
      'install it outside /root (e.g. under /opt), where the program can read it',
      program ? 'env' : 'env-path',
    ),
  ];
}

export const rootHomePaths: Transform = {
  id: 'root-home-path',
  summary: "Reports ENV values and a final WORKDIR under root's home.",
  apply({ model, plan }) {
    const findings: Finding[] = [];
    const underRoot = (v: string) => /^["']?\/root(\/|["']?$)/.test(v);
    let lastWorkdir: Instruction | null = null;
    const scope = stageScope(model, plan.stage);
    for (const [index, i] of plan.stage.instructions.entries()) {
      const keyword = i.getKeyword();
      if (keyword === 'WORKDIR') lastWorkdir = i;
      if (keyword !== 'ENV') continue;
      for (const [name, value] of envPairs(i)) {
        // `ENV MAVEN_CONFIG "$USER_HOME_DIR/.m2"` with `ARG USER_HOME_DIR=/root`: what Docker makes of it.
        const expanded = value.includes('$') ? expandQuoted(value, scope.valuesAt(index)) : null;
        if (underRoot(value) || (expanded !== null && underRoot(expanded))) {
          findings.push(
            finding(
              'root-home-path',
              i,
              `ENV ${name}=${value}${expanded !== null && expanded !== value ? ` (${expanded})` : ''} points into /root (0700 root): the program, running as $${plan.peak.options.uidArg}, cannot reach it`,
              `move it out of /root (e.g. under ${plan.peak.options.home} or /opt)`,
              'env',
            ),
          );
        } else {
          findings.push(...searchPathFindings(i, name, value, plan.peak.options.uidArg));
        }
      }
    }
    if (lastWorkdir && underRoot(userValue(lastWorkdir))) {
      findings.push(
        finding(
          'root-home-path',
          lastWorkdir,
          `WORKDIR ${userValue(lastWorkdir)} is under /root: the container cannot even start there as $${plan.peak.options.uidArg}`,
          'use an application directory such as /app',
          'final-workdir',
        ),
      );
    }
    void model;
    return { edits: [], findings };
  },
};

/**
 * A base that runs its program as a user of its own (apache/kafka's appuser, opensearch's 1000) gave that user, in
 * its own Dockerfile, what the program writes. Where the stage still runs the base's program as that user, the
 * program now runs as the UID and owns none of it. Not for a server whose run-time paths are facts (the closing
 * gives them), a base whose writer group the user joins, a migrated base (its user takes the UID), or a base
 * without a shell.
 */
export const baseUserFiles: Transform = reportOnly(
  'base-user-files',
  'Reports a base whose program ran as a user of its own, whose files the UID does not own.',
  ({ model, plan, inputs, options }) => {
    const facts = plan.base.facts;
    const own = facts.defaultUser;
    if (!own || facts.migrated || !can.run(facts) || can.joinWriterGroup(facts)) return [];
    if (stageServer(model, plan.stage, plan.base.reference, inputs)) return [];
    const inForce = userBefore(model, plan.stage, plan.closingAt);
    if (isRootUser(inForce)) return [];
    const name = (inForce as string).split(':')[0];
    if (name !== own.name && name !== String(own.uid)) return [];
    const image = plan.base.reference.split(/[:@]/)[0];
    return [
      finding(
        'base-user-files',
        plan.stage.from,
        `${image} runs its program as ${name}; what its own Dockerfile gave ${name} (data, logs, configuration) stays ${name}'s, so the program, started as $${options.uidArg}, may not be able to write there`,
        `give ${options.user} the paths the program writes in this Dockerfile (COPY --chown, or chown them as root)`,
      ),
    ];
  },
);
