import type { Instruction } from 'dockerfile-ast';
import { copiedBy } from '../src/model/context.js';
import { argumentsOf, argumentsText, foldedText, type DockerfileModel, type Stage } from '../src/model/dockerfile.js';
import { envPairs } from '../src/model/peak.js';
import type { StageServer } from '../src/model/server.js';
import { finding, type Transform } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';

/**
 * The `privileged-port` rule, every place a port below 1024 is set: EXPOSE and the start's flags (the transform
 * below), the environment (`envPortFindings`) and a server's configuration, copied in or the image's own
 * (`serverPortFindings`). The last two are reported by server-start, in its place among that transform's findings:
 * findings of one line come out in the order the transforms run.
 */

const PORT_FLAG = /(?:--port|--listen|--bind|--http-port|--server\.port|-p|-b)[=\s"',]+(?:[\w.[\]-]*:)?(\d{1,5})\b/g;
const HOST_PORT = /(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]):(\d{1,5})\b/g;

/** Why a port below 1024 is reported though the image works under Docker. */
const UNDER_DOCKER =
  'fine under Docker (ip_unprivileged_port_start=0), refused for a non-root UID where the runtime keeps the kernel default of 1024';

export const privilegedPort: Transform = {
  id: 'privileged-port',
  summary: 'Reports EXPOSE and server flags with ports below 1024.',
  apply({ model, plan }) {
    const findings = plan.stage.instructions.flatMap((i) => {
      const low = lowOnly(instructionPorts(model, i));
      if (low.length === 0) return [];
      return [
        finding(
          'privileged-port',
          i,
          `${i.getKeyword()} uses port ${low.join(', ')}: a non-root process may not bind ports below 1024`,
          'listen on a port of 1024 or more (e.g. 8080) and map it',
        ),
      ];
    });
    return { edits: [], findings };
  },
};

/** The ports an EXPOSE lists, or a CMD/ENTRYPOINT passes in its flags and host:port words. */
function instructionPorts(model: DockerfileModel, i: Instruction): number[] {
  const keyword = i.getKeyword();
  if (keyword === 'EXPOSE') return argumentsOf(i).map((a) => Number.parseInt(a.getValue(), 10));
  if (keyword !== 'CMD' && keyword !== 'ENTRYPOINT') return [];
  const text = argumentsText(model, i);
  return [...text.matchAll(PORT_FLAG), ...text.matchAll(HOST_PORT)].map((m) => Number(m[1]));
}

/** The ports below 1024, each once. */
function lowOnly(ports: number[]): number[] {
  return [...new Set(ports.filter((p) => p > 0 && p < 1024))];
}

/** ENV names that set the port a server listens on, and how to read the port from the value. */
const PORT_ENV =
  /^(ASPNETCORE_URLS|URLS|ASPNETCORE_HTTP_PORTS|ASPNETCORE_HTTPS_PORTS|PORT|HTTP_PORT|HTTPS_PORT|SERVER_PORT|LISTEN_PORT|APP_PORT|WEB_PORT|NGINX_PORT|UVICORN_PORT|FLASK_RUN_PORT|GUNICORN_CMD_ARGS|BIND|BIND_ADDRESS)$/;

/** Ports below 1024 in a value: a list of numbers for *PORT(S), else the `:N` of URLs and bind addresses. */
function lowPorts(name: string, value: string): number[] {
  const found = /PORTS?$/.test(name)
    ? value.split(/[;,\s]+/).filter((v) => /^\d{1,5}$/.test(v))
    : [...value.matchAll(/:(\d{1,5})(?=$|[/;,\s"'])/g)].map((m) => m[1]);
  return lowOnly(found.map(Number));
}

/** Ports below 1024 set by the environment. */
export function envPortFindings(stage: Stage): Finding[] {
  return stage.instructions
    .filter((i) => i.getKeyword() === 'ENV')
    .flatMap((env) =>
      envPairs(env).flatMap(([name, value]) => {
        const low = PORT_ENV.test(name) ? lowPorts(name, value) : [];
        if (low.length === 0) return [];
        return [
          finding(
            'privileged-port',
            env,
            `ENV ${name}=${value} makes the server listen on port ${low.join(', ')}: ${UNDER_DOCKER}`,
            `listen on a port of 1024 or more, e.g. ${name}=${value.replace(String(low[0]), '8080')}, and map it`,
          ),
        ];
      }),
    );
}

/**
 * Ports below 1024 a server listens on: those its configuration copied in sets, else the image's own, unless the
 * stage moves it (or exposes it, which the transform above reports).
 */
export function serverPortFindings(model: DockerfileModel, from: Instruction, instructions: Instruction[], server: StageServer): Finding[] {
  const program = server.server.program;
  const configured = server.configured.ports
    .filter((p) => p.port < 1024)
    .map(({ port, at }) => ({
      ...finding(
        'privileged-port',
        copiedBy(server.copied, at.file, from),
        `${at.file}:${at.line} \`${at.text}\` makes ${program} listen on port ${port}: ${UNDER_DOCKER}`,
        `listen on 8080 (or another port of 1024 or more) in ${at.file} and map it`,
      ),
      context: { file: at.file, line: at.line },
    }));
  return [...configured, ...imagePortFindings(model, from, instructions, server)];
}

/** The image's own configuration keeps its port unless this Dockerfile copies over or edits that file. */
function imagePortFindings(model: DockerfileModel, from: Instruction, instructions: Instruction[], server: StageServer): Finding[] {
  const own = server.server.port;
  if (!own || !(own.number < 1024) || server.configured.ports.length > 0) return [];
  // An `EXPOSE 80` of the stage is reported by the transform above already.
  const exposed = instructions.some(
    (i) => i.getKeyword() === 'EXPOSE' && argumentsOf(i).some((a) => Number.parseInt(a.getValue(), 10) === own.number),
  );
  if (exposed || movesPort(model, instructions, own.file ?? '')) return [];
  return [
    finding(
      'privileged-port',
      from,
      `${server.server.program} in this image listens on port ${own.number} (${own.source}): ${UNDER_DOCKER}`,
      `copy in a configuration that listens on 8080 (or another port of 1024 or more) and map it`,
    ),
  ];
}

/** A RUN that edits the configuration file (sed 's/listen 80/...'), or a COPY/ADD whose text names it, may move the port. */
function movesPort(model: DockerfileModel, instructions: Instruction[], file: string): boolean {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const dir = file.slice(0, file.lastIndexOf('/'));
  return instructions.some((i) => {
    const keyword = i.getKeyword();
    const text = foldedText(model, i);
    if (keyword === 'RUN') return /\blisten\b/i.test(text) || (name !== '' && text.includes(name));
    return (
      (keyword === 'COPY' || keyword === 'ADD') && name !== '' && (text.includes(name) || text.trimEnd().replace(/\/+$/, '').endsWith(dir))
    );
  });
}
