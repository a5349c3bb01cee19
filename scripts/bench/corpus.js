// A seeded corpus of realistic Dockerfiles for `npm run bench`: 10 to 2,000 lines, multi-stage builds,
// line continuations with comment lines inside them, heredocs, and every base-image family peak-fix knows
// (Debian/Ubuntu, RHEL, Alpine/busybox, distroless/scratch, Windows, unknown). Same seed, same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: small, fast, good enough to pick shapes; deterministic across platforms. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASES = {
  debian: ['debian:bookworm-slim', 'debian:bullseye', 'ubuntu:22.04', 'ubuntu:24.04', 'python:3.12-slim', 'node:20-bookworm-slim'],
  debianApps: ['golang:1.22', 'ruby:3.3', 'php:8.3-apache', 'rocker/r-ver:4.4.0', 'bitnami/python:3.12', 'eclipse-temurin:21-jre'],
  rhel: ['registry.access.redhat.com/ubi9/ubi', 'fedora:40', 'rockylinux:9', 'almalinux:9', 'amazonlinux:2023'],
  alpine: ['alpine:3.20', 'python:3.12-alpine', 'node:20-alpine', 'busybox:1.36'],
  distroless: ['gcr.io/distroless/static-debian12', 'gcr.io/distroless/python3-debian12:nonroot', 'cgr.dev/chainguard/static', 'scratch'],
  windows: ['mcr.microsoft.com/windows/servercore:ltsc2022', 'mcr.microsoft.com/dotnet/runtime:8.0-nanoserver-ltsc2022'],
  unknown: ['mycorp/base-image:2.3', 'registry.example.com/team/runtime:1.0'],
};
/** How often each family is the final stage's base: mostly Debian-like, every family present. */
const FAMILY_WEIGHTS = [
  ['debian', 34],
  ['debianApps', 22],
  ['rhel', 10],
  ['alpine', 16],
  ['distroless', 10],
  ['windows', 2],
  ['unknown', 6],
];
const BUILDERS = ['golang:1.22', 'node:20', 'python:3.12', 'maven:3.9-eclipse-temurin-21', 'rust:1.79', 'debian:bookworm'];
const PACKAGES = ['curl', 'ca-certificates', 'git', 'build-essential', 'libpq-dev', 'tzdata', 'gnupg', 'unzip', 'jq', 'locales'];

export function pick(rand, items) {
  return items[Math.floor(rand() * items.length)];
}

function weighted(rand, pairs) {
  let roll = rand() * pairs.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, weight] of pairs) if ((roll -= weight) < 0) return value;
  return pairs[pairs.length - 1][0];
}

/** Line counts as real trees have them: most files short, a long tail up to 2,000 lines. */
export function lineCount(rand) {
  const r = rand();
  if (r < 0.7) return 10 + Math.floor(rand() * 50);
  if (r < 0.95) return 60 + Math.floor(rand() * 240);
  return 300 + Math.floor(rand() * 1700);
}

function packageList(rand, n) {
  return Array.from({ length: n }, () => pick(rand, PACKAGES));
}

/** One instruction (one or more lines) of a stage whose shell is `shell` ('apt', 'dnf', 'apk', 'none'). */
function instruction(rand, shell, i) {
  const kind = rand();
  const dir = pick(rand, ['/app', '/srv/app', '/opt/service', '/usr/src/app', '/data', '/var/lib/app']);
  if (shell === 'none') {
    if (kind < 0.5) return [`COPY ${pick(rand, ['--from=build ', ''])}${pick(rand, ['bin/app', 'dist/', 'config.yaml', '.'])} ${dir}/`];
    if (kind < 0.65) return [`ENV APP_${i}=${Math.floor(rand() * 1000)}`];
    if (kind < 0.75) return [`LABEL org.example.part${i}="${pick(rand, ['api', 'worker', 'cron'])}"`];
    if (kind < 0.85) return [`# step ${i}: static files only, no shell in this image`];
    if (kind < 0.92) return [`WORKDIR ${dir}`];
    return [`EXPOSE ${pick(rand, ['8080', '8443', '9090', '3000'])}`];
  }
  const install =
    shell === 'apk'
      ? `apk add --no-cache ${packageList(rand, 3).join(' ')}`
      : shell === 'dnf'
        ? `dnf install -y ${packageList(rand, 3).join(' ')}`
        : `apt-get install -y --no-install-recommends ${packageList(rand, 3).join(' ')}`;
  if (kind < 0.22) {
    // A long RUN with continuations and comment lines inside the continuation (legal, and common).
    const lines = [`RUN set -eux; \\`];
    const steps = 2 + Math.floor(rand() * 8);
    for (let s = 0; s < steps; s++) {
      if (rand() < 0.25) lines.push(`    # ${pick(rand, ['pin the version', 'clean caches', 'see ticket OPS-' + i])}`);
      lines.push(
        `    ${s === 0 ? install : pick(rand, ['mkdir -p ' + dir + '/cache', 'echo step ' + s, 'rm -rf /var/lib/apt/lists/*', 'ln -s /usr/bin/python3 /usr/local/bin/py'])}; \\`,
      );
    }
    lines.push(`    true`);
    return lines;
  }
  if (kind < 0.3) {
    // Heredoc (BuildKit syntax): a small script, sometimes to a file.
    const tag = pick(rand, ['EOF', 'SCRIPT', 'END']);
    const body = Array.from({ length: 2 + Math.floor(rand() * 5) }, (_, k) => `echo "line ${k} of step ${i}"`);
    if (rand() < 0.5) return [`RUN <<${tag}`, 'set -e', ...body, tag];
    return [`COPY <<${tag} ${dir}/run-${i}.sh`, '#!/bin/sh', ...body, tag];
  }
  if (kind < 0.42)
    return [
      `RUN ${pick(rand, [install, 'mkdir -p ' + dir, 'pip install --no-cache-dir -r requirements.txt', 'npm ci --omit=dev', 'chmod +x ' + dir + '/entrypoint.sh'])}`,
    ];
  if (kind < 0.56)
    return [
      `COPY ${pick(rand, ['requirements.txt', 'package*.json', 'src/', '.', 'entrypoint.sh'])} ${pick(rand, [dir + '/', '.', './'])}`,
    ];
  if (kind < 0.6) return [`ADD ${pick(rand, ['https://example.com/tool.tar.gz', 'vendor.tar.gz', 'conf/'])} ${dir}/`];
  if (kind < 0.67)
    return [
      `ENV ${pick(rand, ['PATH', 'LANG', 'APP_HOME', 'PYTHONUNBUFFERED'])}=${pick(rand, ['/usr/local/bin:$PATH', 'C.UTF-8', dir, '1'])}`,
    ];
  if (kind < 0.71) return [`ARG ${pick(rand, ['VERSION', 'BUILD_DATE', 'GIT_SHA'])}${rand() < 0.5 ? '=1.0' : ''}`];
  if (kind < 0.75) return [`WORKDIR ${dir}`];
  if (kind < 0.79) return [`LABEL maintainer="team-${i % 7}@example.com" \\`, `      org.opencontainers.image.version="1.${i}"`];
  if (kind < 0.82) return [`VOLUME ${dir}/data`];
  if (kind < 0.85) return [`EXPOSE ${pick(rand, ['80', '8080', '443', '5000', '3000'])}`];
  if (kind < 0.93)
    return [`# ${pick(rand, ['Install dependencies first for layer caching', 'TODO: slim this down', 'Runtime configuration', ''])}`, ''];
  return [''];
}

function shellOf(family) {
  if (family === 'alpine') return 'apk';
  if (family === 'rhel') return 'dnf';
  if (family === 'distroless') return 'none';
  return 'apt';
}

/** One Dockerfile of about `lines` lines. */
export function dockerfile(rand, lines) {
  const family = weighted(rand, FAMILY_WEIGHTS);
  const out = [];
  if (rand() < 0.3) out.push('# syntax=docker/dockerfile:1');
  if (rand() < 0.3) out.push(`ARG BASE_TAG=${pick(rand, ['1.0', 'latest', 'stable'])}`);
  // Builder stages (multi-stage) take about a third of the lines when present.
  const stages = family === 'distroless' ? 1 + Math.floor(rand() * 2) : rand() < 0.4 ? 1 + Math.floor(rand() * 3) : 0;
  for (let s = 0; s < stages; s++) {
    out.push('', `FROM ${pick(rand, BUILDERS)} AS ${s === 0 ? 'build' : `stage${s}`}`);
    const budget = Math.floor(lines / (3 * stages));
    for (let i = 0; out.length < budget * (s + 1); i++) out.push(...instruction(rand, 'apt', i));
  }
  out.push('', `FROM ${pick(rand, BASES[family])}`);
  const shell = shellOf(family);
  for (let i = 0; out.length < lines - 2; i++) out.push(...instruction(rand, shell, i));
  if (rand() < 0.2 && shell !== 'none') out.push(`USER ${pick(rand, ['1000', 'node', 'app'])}`);
  out.push(pick(rand, ['CMD ["./app"]', 'CMD ["python", "main.py"]', 'ENTRYPOINT ["/entrypoint.sh"]', 'CMD npm start']));
  const text = out.join('\n') + '\n';
  return rand() < 0.03 ? text.replace(/\n/g, '\r\n') : text;
}

/**
 * Writes `count` Dockerfiles under `root` as `cNN/rMMM/sK/Dockerfile`: chunk NN holds files 1000·NN to
 * 1000·NN+999 and group MMM 100 of them, so the first N files are a few directories to name.
 */
export function writeCorpus(root, count, seed) {
  const rand = random(seed);
  let bytes = 0;
  let lines = 0;
  let bytesFirst1000 = 0;
  for (let i = 0; i < count; i++) {
    const dir = join(root, corpusDir(i), `s${i % 100}`);
    mkdirSync(dir, { recursive: true });
    const n = lineCount(rand);
    const text = dockerfile(rand, n);
    writeFileSync(join(dir, 'Dockerfile'), text);
    bytes += Buffer.byteLength(text);
    if (i < 1000) bytesFirst1000 += Buffer.byteLength(text);
    lines += text.split('\n').length - 1;
  }
  return { files: count, bytes, lines, bytesFirst1000 };
}

function corpusDir(i) {
  return join(`c${String(Math.floor(i / 1000)).padStart(2, '0')}`, `r${String(Math.floor(i / 100)).padStart(3, '0')}`);
}

/** The directories that hold exactly the first `count` files (count a multiple of 100). */
export function firstFiles(count) {
  return Array.from({ length: count / 100 }, (_, g) => corpusDir(g * 100));
}

/** One big single Dockerfile of `lines` lines (for the size-scaling figure). */
export function bigDockerfile(lines, seed) {
  const rand = random(seed);
  const out = ['FROM debian:bookworm-slim AS build'];
  for (let i = 0; out.length < lines / 2; i++) out.push(...instruction(rand, 'apt', i));
  out.push('FROM python:3.12-slim');
  for (let i = 0; out.length < lines - 1; i++) out.push(...instruction(rand, 'apt', i));
  out.push('CMD ["python", "main.py"]');
  return out.join('\n') + '\n';
}
