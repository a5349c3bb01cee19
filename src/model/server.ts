import type { RuntimePath } from '../facts.js';
import { copiedFiles, type CopiedFile } from '../context.js';
import { findServerImage, readServerConfig, serverRuntimePaths, type ConfiguredServer, type ServerImage } from '../servers.js';
import { foldedText, type DockerfileModel, type Stage } from './dockerfile.js';

/** What a stage built on a server image runs, and what it must be able to write (derived once per stage). */
export interface StageServer {
  server: ServerImage;
  /** What the configuration files the stage copies in say. */
  configured: ConfiguredServer;
  /** The run-time paths to give the user: the image's own, as the copied configuration moves them. */
  paths: RuntimePath[];
  /** Build-context files the stage copies in, by path in the image. */
  copied: Map<string, CopiedFile>;
}

const cache = new WeakMap<Stage, { contextFiles: ReadonlyMap<string, string> | undefined; value: StageServer | undefined }>();

/** The server a stage's base image runs, or undefined when it is not a catalogued server image. */
export function stageServer(
  model: DockerfileModel,
  stage: Stage,
  reference: string,
  contextFiles: ReadonlyMap<string, string> | undefined,
): StageServer | undefined {
  const hit = cache.get(stage);
  if (hit && hit.contextFiles === contextFiles) return hit.value;
  const server = findServerImage(reference);
  let value: StageServer | undefined;
  if (server) {
    const copied = copiedFiles(model, stage, contextFiles);
    const configFiles = new Map([...copied].map(([imagePath, c]) => [imagePath, { text: c.text, file: c.file }]));
    const configured = readServerConfig(server, configFiles);
    // A RUN that rewrites a path with sed (`sed -i 's,/var/run/nginx.pid,/tmp/nginx.pid,' nginx.conf`, a common hand fix)
    // moved it: no empty file is made there.
    const edits = stage.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => foldedText(model, i))
      .filter((t) => /\bsed\b/.test(t));
    const paths = serverRuntimePaths(reference, configured, stageEnv(model, stage)).filter(
      (p) => p.kind !== 'file' || !edits.some((t) => t.includes(p.path)),
    );
    value = { server, configured, paths, copied };
  }
  cache.set(stage, { contextFiles, value });
  return value;
}

/** The literal values the stage's ENV instructions set (the last one wins); values with variables are left out. */
function stageEnv(model: DockerfileModel, stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() !== 'ENV') continue;
    const text = foldedText(model, instruction).slice(instruction.getInstruction().length).trim();
    const pairs: [string, string][] = /^[A-Za-z_][A-Za-z0-9_]*\s+[^=]*$/.test(text)
      ? [[text.split(/\s+/)[0], text.split(/\s+/).slice(1).join(' ')]]
      : [...text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)].map((m) => [m[1], m[2]]);
    for (const [name, raw] of pairs) {
      const value = raw.replace(/^["']|["']$/g, '');
      if (value.includes('$')) env.delete(name);
      else env.set(name, value);
    }
  }
  return env;
}
