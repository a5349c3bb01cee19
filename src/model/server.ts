import type { RuntimePath } from '../facts/types.js';
import type { EngineInputs } from '../types.js';
import { copiedFiles, type CopiedFile } from './context.js';
import { findServerImage, readServerConfig, serverRuntimePaths, type ConfiguredServer, type ServerImage } from '../facts/servers.js';
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

const cache = new WeakMap<Stage, { inputs: EngineInputs; value: StageServer | undefined }>();

/**
 * The server a stage's base image runs, or undefined when it is neither a catalogued server image nor an image
 * whose facts (organisation catalog, facts file: `ImageFacts.runtimePaths`) list run-time paths. Facts that list
 * them win over the built-in table.
 */
export function stageServer(model: DockerfileModel, stage: Stage, reference: string, inputs: EngineInputs): StageServer | undefined {
  const hit = cache.get(stage);
  if (hit && hit.inputs === inputs) return hit.value;
  const known = inputs.facts?.(reference)?.runtimePaths;
  const server: ServerImage | undefined =
    findServerImage(reference) ??
    (known ? { program: reference, repositories: [], runtimePaths: [], volumes: [], notes: [], sources: [] } : undefined);
  let value: StageServer | undefined;
  if (server) {
    const copied = copiedFiles(model, stage, inputs.contextFiles);
    const configFiles = new Map([...copied].map(([imagePath, c]) => [imagePath, { text: c.text, file: c.file }]));
    const configured = readServerConfig(server, configFiles);
    // A RUN that rewrites a path with sed (`sed -i 's,/var/run/nginx.pid,/tmp/nginx.pid,' nginx.conf`, a common hand fix)
    // moved it: no empty file is made there.
    const edits = stage.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => foldedText(model, i))
      .filter((t) => /\bsed\b/.test(t));
    const replaced = new Set(configured.replaced);
    const base = known
      ? [...known.filter((p) => !replaced.has(p.path)), ...configured.paths]
      : serverRuntimePaths(reference, configured, stageEnv(model, stage));
    const paths = base.filter((p) => plainPath(p.path) && (p.kind !== 'file' || !edits.some((t) => t.includes(p.path))));
    value = { server, configured, paths, copied };
  }
  cache.set(stage, { inputs, value });
  return value;
}

/** Paths from facts go into a shell line: only plain absolute ones (no variables, quotes, spaces or `..`). */
function plainPath(path: string): boolean {
  return /^\/[A-Za-z0-9._@+\-/]*$/.test(path) && !path.split('/').includes('..');
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
