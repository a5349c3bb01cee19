import fc from 'fast-check';
import type { FixOptions } from '../src/index.js';

/**
 * Generators for property-based tests: Dockerfiles assembled from every instruction kind, in the styles real
 * files come in (CRLF, a BOM, `# escape=`, lower-case keywords, continuations with comments, heredocs),
 * with some garbage mixed in, plus the options to run peak-fix with.
 */

export interface Case {
  text: string;
  options: Partial<FixOptions>;
}

type KeywordCase = 'upper' | 'lower' | 'title';

interface Style {
  eol: '\n' | '\r\n' | 'mixed';
  escape: '\\' | '`';
  keywordCase: KeywordCase | 'mixed';
  bom: boolean;
  trailingEol: boolean;
}

/** An instruction: `lines[0]` goes after the keyword, the others are continuation lines; a line starting with `#` is a comment inside the continuation. */
interface Instr {
  kind: 'instr';
  keyword: string;
  lines: string[];
  /** Heredoc body lines, terminator included. */
  heredoc?: string[];
  /** Case used when the file mixes cases. */
  ownCase: KeywordCase;
  indent: string;
  /** The last line ends with the escape character too (at the end of the file: a dangling continuation). */
  dangling: boolean;
  /** Line break after this item when the file mixes CRLF and LF. */
  crlf: boolean;
}

/** Comment, blank or garbage line, written as it is. */
interface Raw {
  kind: 'raw';
  text: string;
  crlf: boolean;
}

type Item = Instr | Raw;

interface FromSpec {
  platform: string | null;
  image: string;
  stripTag: boolean;
  digest: string | null;
  /** How the image is named: literally, through a global ARG, or through a variable nobody sets. */
  via: 'literal' | 'arg' | 'argBraced' | 'argTag' | 'defaultOp' | 'unresolvable' | 'emptyDefault';
  name: string | null;
  /** Build FROM an earlier stage (index taken modulo the stage's position) instead of an image. */
  parentRef: number | null;
  keywordCase: KeywordCase;
  crlf: boolean;
}

interface Stage {
  from: FromSpec;
  body: Item[];
}

interface Doc {
  style: Style;
  syntax: string | null;
  escapeDirective: boolean;
  disableAtTop: boolean;
  head: Item[];
  extraGlobalArgs: Item[];
  stages: Stage[];
  noFrom: boolean;
}

// ---------------------------------------------------------------------------------------------- vocabulary

export const IMAGES = [
  'debian:bookworm-slim',
  'python:3.11-slim',
  'node:20',
  'node:20-alpine',
  'alpine:3.19',
  'bitnami/python:3.11',
  'gcr.io/distroless/static-debian12',
  'gcr.io/distroless/python3-debian12:nonroot',
  'scratch',
  'registry.example.com/x/y:1',
  'rocker/r-ver:4',
  'mcr.microsoft.com/windows/servercore:ltsc2022',
  'ubuntu:22.04',
  'busybox',
  'registry.access.redhat.com/ubi9/ubi-minimal:9.3',
  'jupyter/base-notebook:latest',
  'docker.io/library/python:3.12',
  'localhost:5000/team/app:dev',
  'postgres:16',
  'python:3.11-windowsservercore-ltsc2022',
  'myorg/app:el8',
  'cgr.dev/chainguard/static:latest',
];

const STAGE_NAMES = ['builder', 'Build', 'deps', 'base', 'runtime', 'final', 'test'];

const SHELL_COMMANDS = [
  'apt-get update',
  'apt-get install -y --no-install-recommends curl',
  'rm -rf /var/lib/apt/lists/*',
  'pip install --no-cache-dir -r requirements.txt',
  'npm ci --omit=dev',
  'apk add --no-cache bash',
  'mkdir -p /data /app/cache',
  'mkdir logs',
  'mkdir -m 700 /srv/secret',
  'mkdir -p "$HOME/.config"',
  'echo "héllo wörld ✓ 日本語 😀"',
  'useradd -m app',
  'chmod +x /entrypoint.sh',
  'chown -R peak-user:peak-user /home/peak-user',
  'useradd -l -m -d /home/peak-user -u $PEAK_USER_ID peak-user',
  'useradd -l -m -d /opt/app -u $APP_UID app',
  'chown -R app:app /opt/app',
  'adduser -D app',
  'echo $HOME > /tmp/home.txt',
  'find . -name "*.pyc" -delete',
  'true',
];

const HEREDOC_BODY = [
  'set -e',
  'apt-get update',
  'echo "USER root"',
  'USER root',
  'FROM alpine',
  'mkdir -p /var/cache/app',
  'print("ünïcödé ✓")',
  '',
  'cat /etc/os-release',
  '# not a Dockerfile comment',
];

const COMMENTS = [
  '# Install the tools',
  '# ünïcödé — 日本語 ✓ 😀',
  '#',
  '  # indented comment',
  '# USER root',
  '# FROM alpine',
  '#syntax=not-a-directive-here',
  '# peak-fix-ignore',
  '# peak-fix-ignore workdir-kept chown-other-user',
];

const GARBAGE = [
  'FROM',
  'RUN',
  'COPY',
  'COPY onlyone',
  'USER',
  'WORKDIR',
  'VOLUME',
  'ENV',
  'ARG',
  'EXPOSE',
  '}}}',
  '=',
  'this is not an instruction',
  'RUN echo "unterminated',
  'FROM --platform=linux/amd64',
  'ONBUILD',
  '\t# tab comment',
  'HEALTHCHECK',
  'SHELL not-json',
  'CMD [',
  'ENTRYPOINT ["unterminated',
  'VOLUME [/not/json',
];

const GARBAGE_CHARS = [...'abcXYZ019 \t\\`$={}[]"\':/#-_.<>&|;()é✓日', '😀'];

// ---------------------------------------------------------------------------------------------- items

const crlf = fc.boolean();
const keywordCase = fc.constantFrom<KeywordCase>('upper', 'lower', 'title');
const indent = fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('  ', '\t') });
const dangling = fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

function instr(
  keyword: fc.Arbitrary<string>,
  lines: fc.Arbitrary<string[]>,
  heredoc: fc.Arbitrary<string[] | undefined> = fc.constant(undefined),
) {
  return fc
    .record({ keyword, lines, heredoc, ownCase: keywordCase, indent, dangling, crlf })
    .map((r): Item => ({ kind: 'instr', ...r, heredoc: r.heredoc }));
}

function simple(keyword: string, ...args: string[]) {
  return instr(
    fc.constant(keyword),
    fc.constantFrom(...args).map((a) => [a]),
  );
}

/** Words spread over continuation lines, with comment lines among them now and then. */
function continued(words: string[][]): fc.Arbitrary<string[]> {
  const splits = fc.array(fc.boolean(), { minLength: words.length, maxLength: words.length });
  const comment = fc.option(fc.record({ text: fc.constantFrom(...COMMENTS), at: fc.nat() }), { freq: 3 });
  return fc.tuple(splits, comment).map(([splits, comment]) => {
    const lines: string[] = [];
    words.forEach((group, k) => {
      const text = group.join(' ');
      if (k > 0 && splits[k]) lines.push('    ' + text);
      else if (lines.length === 0) lines.push(text);
      else lines[lines.length - 1] += ' ' + text;
    });
    // Anywhere after the first line, the end included (a commented-out last line).
    if (comment && lines.length > 1) lines.splice(1 + (comment.at % lines.length), 0, comment.text.trimStart());
    return lines;
  });
}

const runShell = instr(
  fc.constant('RUN'),
  fc
    .record({
      flags: fc.subarray(['--mount=type=cache,target=/root/.cache', '--network=none']),
      commands: fc.array(fc.constantFrom(...SHELL_COMMANDS), { minLength: 1, maxLength: 4 }),
    })
    .chain(({ flags, commands }) => continued([[...flags, commands[0]], ...commands.slice(1).map((c) => ['&&', c])])),
);

const runExec = simple('RUN', '["/bin/sh", "-c", "echo hi"]', '["pip", "install", "."]', '[ "true" ]');

const heredocBody = fc.array(fc.constantFrom(...HEREDOC_BODY), { maxLength: 4 });

const runHeredoc = instr(
  fc.constant('RUN'),
  fc
    .constantFrom('<<EOF', '<<-EOF', "<<'EOF'", 'bash <<EOF', '--mount=type=cache,target=/var/cache <<EOF', 'python3 <<EOF')
    .map((l) => [l]),
  heredocBody.map((body) => [...body, 'EOF']),
);

const copyFlags = fc.record({
  from: fc.option(fc.constantFrom('--from=builder0', '--from=0', '--from=Build1', '--from=alpine:3.19')),
  chown: fc.option(
    fc.constantFrom('--chown=1000:1000', '--chown=node:node', '--chown=peak-user', '--chown=$PEAK_USER_ID', '--chown=${APP_UID}'),
  ),
  other: fc.subarray(['--chmod=755', '--link']),
});

const sources = fc.subarray(
  ['.', 'app', 'requirements.txt', 'src/*.py', 'package*.json', 'ünïcode.txt', 'https://example.com/a.tgz', 'vendor.tar.gz'],
  {
    minLength: 1,
  },
);

const destinations = fc.constantFrom('/app/', '.', './', 'app/', '/srv/app', '/home/peak-user/data', '/opt/app/conf', '$HOME/x', '/data');

const copyLike = (keyword: string) =>
  instr(
    fc.constant(keyword),
    fc
      .record({ flags: copyFlags, sources, dest: destinations, json: fc.boolean(), split: fc.boolean() })
      .chain(({ flags, sources, dest, json, split }) => {
        const flagWords = [flags.from, flags.chown, ...flags.other].filter((f): f is string => f !== null);
        if (json) return fc.constant([[...flagWords, JSON.stringify([...sources, dest]).replace(/,/g, ', ')].join(' ')]);
        const words = [...flagWords, ...sources, dest];
        return split ? continued(words.map((w) => [w])) : fc.constant([words.join(' ')]);
      }),
  );

const copyHeredoc = instr(
  fc.constantFrom('COPY', 'ADD'),
  fc.constantFrom('<<EOT /etc/app.conf', '--chmod=644 <<EOT /srv/app/config.ini', '<<EOT app.conf').map((l) => [l]),
  heredocBody.map((body) => [...body, 'EOT']),
);

const user = simple(
  'USER',
  'root',
  '0',
  'node',
  '1001',
  '$PEAK_USER_ID',
  '${PEAK_USER_ID}',
  'peak-user',
  'app:app',
  '$APP_UID',
  'root:root',
  '1000:1000',
);

const bodyInstruction: fc.Arbitrary<Item> = fc.oneof(
  { weight: 6, arbitrary: runShell },
  { weight: 1, arbitrary: runExec },
  { weight: 2, arbitrary: runHeredoc },
  { weight: 4, arbitrary: copyLike('COPY') },
  { weight: 2, arbitrary: copyLike('ADD') },
  { weight: 1, arbitrary: copyHeredoc },
  {
    weight: 2,
    arbitrary: simple(
      'ENV',
      'A=1',
      'A 1',
      'HOME=/home/x',
      'PATH=/opt/bin:$PATH',
      'PEAK_USER_ID=$PEAK_USER_ID',
      'APP_UID=$APP_UID',
      'A="x y" B=2',
      'LANG=C.UTF-8',
    ),
  },
  { weight: 2, arbitrary: simple('ARG', 'X', 'X=1', 'PEAK_USER_ID', 'APP_UID', 'PEAK_USER_ID=1000', 'BUILD_DATE') },
  {
    weight: 1,
    arbitrary: instr(
      fc.constant('LABEL'),
      fc.constantFrom(
        ['maintainer="Zoë <z@example.com>"'],
        ['org.opencontainers.image.title="x"', '    version=1'],
        ['description="日本語 ✓"'],
      ),
    ),
  },
  { weight: 1, arbitrary: simple('EXPOSE', '8080', '80/tcp 443/udp', '$PORT') },
  { weight: 3, arbitrary: user },
  {
    weight: 3,
    arbitrary: simple(
      'WORKDIR',
      '/app',
      'app',
      '/home/peak-user',
      'src',
      '/var/lib/thing',
      '/usr/src/app',
      '$HOME/work',
      '"/quoted dir"',
      '/opt/app',
      '/srv/app/',
      '../up',
      '/usr/local',
      '/var/lib',
    ),
  },
  {
    weight: 2,
    arbitrary: simple(
      'VOLUME',
      '/data',
      '["/data", "/var/log/app"]',
      '/tmp',
      '/cache /data2',
      '["/srv/a"]',
      '$DATA_DIR',
      '/home/peak-user/.cache',
      '/var/lib/app',
    ),
  },
  { weight: 1, arbitrary: simple('CMD', '["python", "app.py"]', 'node server.js', '["/srv/app"]') },
  { weight: 1, arbitrary: simple('ENTRYPOINT', '["/entrypoint.sh"]', '/bin/sh -c "exec app"') },
  {
    weight: 1,
    arbitrary: simple('HEALTHCHECK', '--interval=30s --timeout=3s CMD curl -f http://localhost/ || exit 1', 'NONE', 'CMD ["/bin/check"]'),
  },
  { weight: 1, arbitrary: simple('SHELL', '["/bin/bash", "-o", "pipefail", "-c"]', '["powershell", "-Command"]') },
  { weight: 1, arbitrary: simple('STOPSIGNAL', 'SIGTERM', '9') },
  { weight: 1, arbitrary: simple('ONBUILD', 'RUN echo onbuild', 'COPY . /app', 'USER root', 'ADD x /y') },
  { weight: 1, arbitrary: simple('MAINTAINER', 'Zoë <z@example.com>') },
);

const raw = (text: fc.Arbitrary<string>) => fc.record({ text, crlf }).map((r): Item => ({ kind: 'raw', ...r }));

const comment = raw(
  fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...COMMENTS) }, { weight: 1, arbitrary: fc.constant('# peak-fix-disable') }),
);
const blank = raw(fc.constantFrom('', '', '   '));
const garbage = raw(
  fc.oneof(
    fc.constantFrom(...GARBAGE),
    fc.string({ unit: fc.constantFrom(...GARBAGE_CHARS), minLength: 1, maxLength: 24 }).filter((s) => s.trim() !== ''),
  ),
);

const bodyItem: fc.Arbitrary<Item> = fc.oneof(
  { weight: 20, arbitrary: bodyInstruction },
  { weight: 3, arbitrary: comment },
  { weight: 3, arbitrary: blank },
  { weight: 1, arbitrary: garbage },
);

// ---------------------------------------------------------------------------------------------- stages

const fromSpec: fc.Arbitrary<FromSpec> = fc.record({
  platform: fc.oneof(
    { weight: 5, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('linux/amd64', '$BUILDPLATFORM', '${TARGETPLATFORM}') },
  ),
  image: fc.constantFrom(...IMAGES),
  stripTag: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  digest: fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }) },
  ),
  via: fc.oneof(
    { weight: 16, arbitrary: fc.constant('literal' as const) },
    { weight: 2, arbitrary: fc.constantFrom('arg' as const, 'argBraced' as const, 'argTag' as const, 'defaultOp' as const) },
    { weight: 1, arbitrary: fc.constantFrom('unresolvable' as const, 'emptyDefault' as const) },
  ),
  name: fc.option(fc.constantFrom(...STAGE_NAMES), { freq: 2 }),
  parentRef: fc.option(fc.nat({ max: 3 }), { freq: 2 }),
  keywordCase,
  crlf,
});

const stage: fc.Arbitrary<Stage> = fc.record({ from: fromSpec, body: fc.array(bodyItem, { maxLength: 8 }) });

const style: fc.Arbitrary<Style> = fc.record({
  eol: fc.oneof(
    { weight: 6, arbitrary: fc.constant('\n' as const) },
    { weight: 3, arbitrary: fc.constant('\r\n' as const) },
    {
      weight: 1,
      arbitrary: fc.constant('mixed' as const),
    },
  ),
  escape: fc.oneof({ weight: 5, arbitrary: fc.constant('\\' as const) }, { weight: 1, arbitrary: fc.constant('`' as const) }),
  keywordCase: fc.oneof(
    { weight: 6, arbitrary: fc.constant('upper' as const) },
    { weight: 2, arbitrary: fc.constant('lower' as const) },
    { weight: 1, arbitrary: fc.constantFrom('title' as const, 'mixed' as const) },
  ),
  bom: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  trailingEol: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

const doc: fc.Arbitrary<Doc> = fc.record({
  style,
  syntax: fc.option(fc.constantFrom('docker/dockerfile:1', 'docker/dockerfile:1.7-labs'), { freq: 3 }),
  escapeDirective: fc.boolean(),
  disableAtTop: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  head: fc.array(fc.oneof(comment, blank, { weight: 1, arbitrary: garbage }), { maxLength: 2 }),
  extraGlobalArgs: fc.array(simple('ARG', 'VERSION=1', 'BUILD_DATE', 'PYTHON_VERSION=3.11'), { maxLength: 2 }),
  stages: fc.array(stage, { minLength: 1, maxLength: 3 }),
  noFrom: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

// ---------------------------------------------------------------------------------------------- rendering

function applyCase(keyword: string, c: KeywordCase): string {
  if (c === 'lower') return keyword.toLowerCase();
  if (c === 'title') return keyword[0] + keyword.slice(1).toLowerCase();
  return keyword;
}

function withoutTag(image: string): string {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}

function tagOf(image: string): string | null {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : null;
}

interface Line {
  text: string;
  crlf: boolean;
}

function renderDoc(d: Doc): string {
  const { style } = d;
  const escape = style.escape;
  const caseOf = (own: KeywordCase): KeywordCase => (style.keywordCase === 'mixed' ? own : style.keywordCase);
  const lines: Line[] = [];
  const push = (text: string, crlf: boolean) => lines.push({ text, crlf });

  const renderItem = (item: Item) => {
    if (item.kind === 'raw') return push(item.text, item.crlf);
    const keyword = applyCase(item.keyword, caseOf(item.ownCase));
    const lastReal = item.lines.reduce((last, l, k) => (l.trimStart().startsWith('#') && k > 0 ? last : k), 0);
    item.lines.forEach((l, k) => {
      let text = k === 0 ? item.indent + (l === '' ? keyword : `${keyword} ${l}`) : l;
      const isComment = k > 0 && l.trimStart().startsWith('#');
      if (!isComment && (k < lastReal || (k === lastReal && item.dangling && !item.heredoc))) text += ` ${escape}`;
      push(text, item.crlf);
    });
    for (const h of item.heredoc ?? []) push(h, item.crlf);
  };

  if (d.syntax) push(`# syntax=${d.syntax}`, false);
  if (escape === '`') push('# escape=`', false);
  else if (d.escapeDirective) push('# escape=\\', false);
  if (d.disableAtTop) push('# peak-fix-disable', false);
  d.head.forEach(renderItem);

  // Global ARGs that FROM lines use, then the others.
  const names: (string | null)[] = [];
  const fromLines: string[] = [];
  d.stages.forEach((s, index) => {
    const f = s.from;
    const image = f.stripTag ? withoutTag(f.image) : f.image;
    const digest = f.digest ? `@sha256:${f.digest}` : '';
    let reference = image + digest;
    const parent = f.parentRef !== null && index > 0 ? names[f.parentRef % index] : null;
    if (parent) reference = parent;
    else if (f.via === 'arg' || f.via === 'argBraced') {
      push(`ARG BASE${index}=${image}${digest}`, f.crlf);
      reference = f.via === 'arg' ? `$BASE${index}` : `\${BASE${index}}`;
    } else if (f.via === 'argTag' && tagOf(image) !== null) {
      push(`ARG TAG${index}=${tagOf(image)}`, f.crlf);
      reference = `${withoutTag(image)}:\${TAG${index}}${digest}`;
    } else if (f.via === 'defaultOp') {
      reference = `\${IMAGE${index}:-${image}${digest}}`;
    } else if (f.via === 'unresolvable') {
      push(`ARG NOPE${index}`, f.crlf);
      reference = `$NOPE${index}`;
    } else if (f.via === 'emptyDefault') {
      push(`ARG EMPTY${index}=`, f.crlf);
      reference = `\${EMPTY${index}}`;
    }
    const name = f.name ? `${f.name}${index}` : null;
    names.push(name);
    const platform = f.platform ? `--platform=${f.platform} ` : '';
    fromLines.push(
      `${applyCase('FROM', caseOf(f.keywordCase))} ${platform}${reference}${name ? ` ${applyCase('AS', caseOf(f.keywordCase))} ${name}` : ''}`,
    );
  });
  d.extraGlobalArgs.forEach(renderItem);

  d.stages.forEach((s, index) => {
    if (!d.noFrom) push(fromLines[index], s.from.crlf);
    s.body.forEach(renderItem);
  });

  const eolOf = (l: Line) => (style.eol === 'mixed' ? (l.crlf ? '\r\n' : '\n') : style.eol);
  let text = style.bom ? '\uFEFF' : '';
  lines.forEach((l, k) => {
    text += l.text;
    if (k < lines.length - 1 || style.trailingEol) text += eolOf(l);
  });
  return text;
}

// ---------------------------------------------------------------------------------------------- options

export const CUSTOM_NAMES = { user: 'app', home: '/opt/app', uidArg: 'APP_UID' } as const;

const options: fc.Arbitrary<Partial<FixOptions>> = fc
  .record(
    {
      preset: fc.constantFrom('safe' as const, 'peak-doc' as const),
      allStages: fc.boolean(),
      workdir: fc.constantFrom('auto' as const, 'always' as const, 'never' as const),
      names: fc.constantFrom('custom' as const, 'user-only' as const),
    },
    { requiredKeys: [] },
  )
  .map(({ names, ...rest }) => {
    if (names === 'custom') return { ...rest, ...CUSTOM_NAMES };
    if (names === 'user-only') return { ...rest, user: CUSTOM_NAMES.user };
    return rest;
  });

/** A Dockerfile's text and the options to migrate it with. */
export const caseArb: fc.Arbitrary<Case> = fc.record({ doc, options }).map(({ doc, options }) => ({ text: renderDoc(doc), options }));

/** Effective names, with the defaults filled in. */
export function namesOf(o: Partial<FixOptions>): { user: string; home: string; uidArg: string } {
  return { user: o.user ?? 'peak-user', home: o.home ?? '/home/peak-user', uidArg: o.uidArg ?? 'PEAK_USER_ID' };
}
