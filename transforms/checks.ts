import type { Instruction } from 'dockerfile-ast';
import { foldedText, instructionText, isRootUser, userBefore, type DockerfileModel } from '../src/model/dockerfile.js';
import { finding, type Transform } from '../src/transform.js';
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
      .filter((i) => i.getKeyword() === 'RUN' && /(?:^|[\s;&|(])sudo\s/.test(argumentsText(model, i)))
      .map((i) => finding('sudo', i, 'RUN uses sudo: build steps run as root already, and peak-user has no sudo rights at run time'));
    return { edits: [], findings };
  },
};

const PORT_FLAG = /(?:--port|--listen|--bind|--http-port|--server\.port|-p|-b)[=\s"',]+(?:[\w.[\]-]*:)?(\d{1,5})\b/g;
const HOST_PORT = /(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]):(\d{1,5})\b/g;

export const privilegedPort: Transform = {
  id: 'privileged-port',
  summary: 'Reports EXPOSE and server flags with ports below 1024.',
  apply({ model, plan }) {
    const findings: Finding[] = [];
    for (const i of plan.stage.instructions) {
      const keyword = i.getKeyword();
      let ports: number[] = [];
      if (keyword === 'EXPOSE') {
        ports = i.getArguments().map((a) => Number.parseInt(a.getValue(), 10));
      } else if (keyword === 'CMD' || keyword === 'ENTRYPOINT') {
        const text = argumentsText(model, i);
        ports = [...text.matchAll(PORT_FLAG), ...text.matchAll(HOST_PORT)].map((m) => Number(m[1]));
      }
      const low = [...new Set(ports.filter((p) => p > 0 && p < 1024))];
      if (low.length > 0) {
        findings.push(
          finding(
            'privileged-port',
            i,
            `${keyword} uses port ${low.join(', ')}: a non-root process may not bind ports below 1024`,
            'listen on a port of 1024 or more (e.g. 8080) and map it',
          ),
        );
      }
    }
    return { edits: [], findings };
  },
};

const ROOT_HOME_WRITE: [RegExp, string][] = [
  [/git\s+config\s+(?:[^;&|]*\s)?--global\b/, 'git config --global'],
  [/pip3?\s+install\s+(?:[^;&|]*\s)?--user\b/, 'pip install --user'],
  [/\bnpm\s+config\s+set\b/, 'npm config set'],
  [/(?:^|[\s="'])~\//, '~/'],
  [/\$\{?HOME\b/, '$HOME'],
  [/(?:^|[\s="'])\/root(?:\/|\s|$)/, '/root'],
];

export const rootHomeWrite: Transform = {
  id: 'root-home-write',
  summary: "Reports RUN steps run as root that write to root's home.",
  apply({ model, plan }) {
    const findings: Finding[] = [];
    plan.stage.instructions.forEach((i, index) => {
      if (i.getKeyword() !== 'RUN' || plan.peak.isPeakManaged(i)) return;
      if (!isRootUser(userBefore(model, plan.stage, index))) return;
      const text = argumentsText(model, i);
      const hit = ROOT_HOME_WRITE.find(([pattern]) => pattern.test(text));
      if (hit) {
        findings.push(
          finding(
            'root-home-write',
            i,
            `RUN writes to root's home (${hit[1]}); the process runs as ${plan.peak.options.user} with HOME=${plan.peak.options.home} and will not see it`,
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

export const oldShadow: Transform = {
  id: 'old-shadow-lastlog',
  summary: 'Reports useradd without -l on bases whose shadow is older than 4.13.',
  apply({ model, plan }) {
    const reference = plan.base.reference.toLowerCase();
    const tag = reference.slice(reference.lastIndexOf('/') + 1);
    const old = OLD_SHADOW_TAG.test(tag) || /^(ubuntu:(16|18|20|22)\.04|centos:7|rockylinux:8|almalinux:8|debian:(9|10|11))/.test(tag);
    if (!old) return { edits: [], findings: [] };
    const findings = plan.stage.instructions.flatMap((i) => {
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
    return { edits: [], findings };
  },
};

/** The instruction's text after its keyword, continuation breaks folded into spaces. */
function argumentsText(model: DockerfileModel, i: Instruction): string {
  return foldedText(model, i).slice(i.getInstruction().length);
}
