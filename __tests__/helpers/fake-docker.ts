import { pack } from 'tar-stream';
import type { DockerEngine, DockerResult } from '../../src/gather/docker-engine.js';

/** An image as the fake engine knows it: `docker image inspect` JSON plus the files a probe or `docker cp` reads. */
export interface FakeImage {
  id: string;
  os?: string;
  user?: string;
  env?: string[];
  repoDigests?: string[];
  /** Absolute path -> content; `/bin/sh` present means a shell runs. */
  files: Record<string, string>;
  /** Commands on PATH: `useradd`, `usermod`, `busybox` (with the adduser applet). */
  tools?: string[];
}

export interface FakeEngine {
  docker: DockerEngine;
  /** Every command, as its argument list. */
  calls: string[][];
}

const ok = (stdout: string | Buffer = ''): DockerResult => ({ code: 0, stdout: Buffer.from(stdout), stderr: '' });
const fail = (stderr: string, code = 1): DockerResult => ({ code, stdout: Buffer.alloc(0), stderr });

function tarOf(name: string, content: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = pack();
    const chunks: Buffer[] = [];
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
    p.entry({ name }, content);
    p.finalize();
  });
}

/**
 * A fake `docker` that answers like Docker 20.10 for the commands `peak-fix inspect` uses. The probe's output is
 * made from the image's files the way its shell script prints them, so the parsing is tested, not the fake.
 */
export function fakeEngine(
  images: Record<string, FakeImage>,
  opts: { version?: string; missing?: boolean; daemonDown?: boolean } = {},
): FakeEngine {
  const calls: string[][] = [];
  const containers = new Map<string, FakeImage>();
  const byId = (ref: string) => images[ref] ?? Object.values(images).find((i) => i.id === ref);
  const docker: DockerEngine = async (args) => {
    calls.push([...args]);
    if (opts.missing) return { code: -1, stdout: Buffer.alloc(0), stderr: 'spawn docker ENOENT', missing: true };
    if (opts.daemonDown) return fail('Cannot connect to the Docker daemon at unix:///nowhere.sock. Is the docker daemon running?');
    const [command, ...rest] = args;
    if (command === 'version') return ok(`${opts.version ?? '20.10.24+dfsg1'}\n`);
    if (command === 'image' && rest[0] === 'inspect') {
      const ref = rest[rest.length - 1];
      const image = byId(ref);
      if (!image) return fail(`Error: No such image: ${ref}`);
      return ok(
        JSON.stringify({
          Id: image.id,
          RepoTags: [ref],
          RepoDigests: image.repoDigests ?? [],
          Os: image.os ?? 'linux',
          Config: { User: image.user ?? '', Env: image.env ?? ['PATH=/usr/bin:/bin'], WorkingDir: '' },
        }),
      );
    }
    if (command === 'run') {
      const image = byId(args[args.indexOf('/bin/sh') + 1]);
      if (!image) return fail('Unable to find image locally', 125);
      if (!('/bin/sh' in image.files)) {
        return fail(
          'docker: Error response from daemon: failed to create shim: OCI runtime create failed: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown.',
          127,
        );
      }
      const out = ['peak-fix-probe'];
      for (const name of ['passwd', 'group']) {
        const text = image.files[`/etc/${name}`];
        if (text !== undefined) out.push(`peak-fix-probe ${name}`, text, '');
      }
      out.push('peak-fix-probe tools');
      for (const tool of ['useradd', 'usermod']) if (image.tools?.includes(tool)) out.push(tool);
      if (image.tools?.includes('busybox')) out.push('busybox-adduser');
      return ok(out.join('\n') + '\n');
    }
    if (command === 'create') {
      const image = byId(rest[rest.length - 2]);
      if (!image) return fail('Unable to find image locally', 125);
      const id = `c${containers.size}${'0'.repeat(63)}`;
      containers.set(id, image);
      return ok(`${id}\n`);
    }
    if (command === 'cp') {
      const [container, file] = rest[0].split(':');
      const image = containers.get(container);
      if (!image) return fail(`Error: No such container: ${container}`);
      const content = image.files[file];
      if (content === undefined) return fail(`Error: Could not find the file ${file} in container ${container}`);
      return ok(await tarOf(file.split('/').pop() as string, content));
    }
    if (command === 'rm') {
      containers.delete(rest[rest.length - 1]);
      return ok();
    }
    if (command === 'pull') return fail('Error response from daemon: pull access denied');
    return fail(`fake docker: unexpected command ${args.join(' ')}`);
  };
  return { docker, calls };
}

export const DEBIAN_PASSWD =
  'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin';
export const DEBIAN_GROUP = 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:';
