/**
 * A fleet of small repositories with Dockerfiles written for these tests (varied bases, one that cannot be
 * processed, one already migrated by hand to Peak's guide, one without a Dockerfile), and what each one
 * is expected to become. Expectations are about outcomes; the exact rewritten text is asked of the engine.
 */
export interface FleetRepo {
  owner: string;
  name: string;
  files: Record<string, string>;
  /** What the run must conclude. */
  outcome: 'migrated' | 'needs-person' | 'failed' | 'compliant';
  /** Rules that must be among the findings a person must act on. */
  rules?: string[];
  /**
   * Every Dockerfile is left unchanged because it cannot run as a non-root user as it is (stage-left-unchanged):
   * a person must act, and there is nothing to commit or open a pull request for.
   */
  leftUnchanged?: boolean;
}

// Peak's guide by hand, with the guard peak-fix adds to hand migrations (an empty UID fails the build).
const PEAK_GUIDE_MIGRATED = `FROM python:3.8.13-slim-buster
ARG PEAK_USER_ID
ENV PEAK_USER_ID=$PEAK_USER_ID
RUN : "\${PEAK_USER_ID:?build argument PEAK_USER_ID is required}"
RUN id peak-user || useradd -l -m -d /home/peak-user -u $PEAK_USER_ID peak-user
RUN chown -R peak-user:peak-user /home/peak-user
WORKDIR /home/peak-user
COPY --chown=peak-user:peak-user requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
ENV PATH="\${PATH}:/home/peak-user/.local/bin"
RUN chown -R peak-user:peak-user /home/peak-user
USER $PEAK_USER_ID
`;

export const FLEET: FleetRepo[] = [
  {
    owner: 'acme',
    name: 'py-api',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD ["gunicorn", "--bind", "0.0.0.0:8000", "api:app"]\n',
      'requirements.txt': 'gunicorn\n',
    },
  },
  {
    owner: 'acme',
    name: 'node-web',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM node:20-bookworm-slim\nWORKDIR /srv/web\nCOPY package.json package-lock.json ./\nRUN npm ci --omit=dev\nCOPY . .\nUSER node\nCMD ["node", "server.js"]\n',
    },
  },
  {
    owner: 'acme',
    name: 'alpine-worker',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM alpine:3.20\nRUN apk add --no-cache curl\nCOPY worker.sh /usr/local/bin/worker.sh\nCMD ["/usr/local/bin/worker.sh"]\n',
    },
  },
  {
    owner: 'acme',
    name: 'go-distroless',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\n\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app\nENTRYPOINT ["/app"]\n',
    },
  },
  {
    owner: 'acme',
    name: 'nginx-static',
    outcome: 'needs-person',
    rules: ['privileged-port'],
    files: { Dockerfile: 'FROM nginx:1.27\nCOPY site/ /usr/share/nginx/html/\nEXPOSE 80\n' },
  },
  {
    owner: 'acme',
    name: 'ubi-java',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM registry.access.redhat.com/ubi9/ubi:9.4\nRUN dnf install -y java-17-openjdk-headless\nCOPY app.jar /opt/app/app.jar\nCMD ["java", "-jar", "/opt/app/app.jar"]\n',
    },
  },
  {
    owner: 'acme',
    name: 'ruby-app',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM ruby:3.3-slim\nWORKDIR /usr/src/app\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install\nCOPY . .\nCMD ["ruby", "app.rb"]\n',
    },
  },
  {
    owner: 'acme',
    name: 'scratch-tool',
    outcome: 'migrated',
    files: { Dockerfile: 'FROM scratch\nCOPY tool /tool\nENTRYPOINT ["/tool"]\n' },
  },
  {
    owner: 'acme',
    name: 'windows-svc',
    outcome: 'compliant',
    files: { Dockerfile: 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY app C:/app\nCMD ["C:/app/app.exe"]\n' },
  },
  {
    owner: 'acme',
    name: 'already-migrated',
    outcome: 'compliant',
    files: { Dockerfile: PEAK_GUIDE_MIGRATED, 'requirements.txt': 'flask\n' },
  },
  {
    owner: 'acme',
    name: 'unprocessable',
    outcome: 'failed',
    // No FROM: not a Dockerfile that builds an image (an unknown `FROM $BASE` is a skip, not a failure).
    files: { Dockerfile: 'COPY . /app\nCMD ["/app/run"]\n' },
  },
  { owner: 'acme', name: 'docs-only', outcome: 'compliant', files: { 'README.md': '# Documentation only\n' } },
  {
    owner: 'platform',
    name: 'gosu-entry',
    outcome: 'needs-person',
    rules: ['privilege-drop'],
    leftUnchanged: true,
    files: {
      Dockerfile:
        'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gosu && rm -rf /var/lib/apt/lists/*\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["gosu", "daemon", "/entrypoint.sh"]\n',
    },
  },
  {
    owner: 'platform',
    name: 'sudo-build',
    outcome: 'needs-person',
    rules: ['sudo'],
    files: {
      Dockerfile:
        'FROM ubuntu:22.04\nRUN sudo apt-get update && sudo apt-get install -y make\nCOPY . /build\nCMD ["make", "-C", "/build"]\n',
    },
  },
  {
    owner: 'platform',
    name: 'monorepo',
    outcome: 'migrated',
    files: {
      'services/api/Dockerfile': 'FROM debian:bookworm-slim\nCOPY api /usr/local/bin/api\nCMD ["api"]\n',
      'services/jobs/Containerfile': 'FROM alpine:3.20\nCOPY jobs /usr/local/bin/jobs\nCMD ["jobs"]\n',
    },
  },
  {
    owner: 'platform',
    name: 'bitnami-py',
    outcome: 'migrated',
    files: { Dockerfile: 'FROM bitnami/python:3.11\nCOPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n' },
  },
  {
    owner: 'platform',
    name: 'php-apache',
    outcome: 'needs-person',
    rules: ['privileged-port'],
    files: { Dockerfile: 'FROM php:8.3-apache\nCOPY src/ /var/www/html/\nEXPOSE 80\n' },
  },
  {
    owner: 'platform',
    name: 'r-report',
    outcome: 'migrated',
    files: { Dockerfile: 'FROM rocker/r-ver:4.3.2\nCOPY report.R /opt/report.R\nCMD ["Rscript", "/opt/report.R"]\n' },
  },
  {
    owner: 'platform',
    name: 'volume-app',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM debian:bookworm-slim\nWORKDIR /srv/app\nCOPY app /srv/app/app\nRUN mkdir -p /srv/app/cache\nVOLUME /data\nCMD ["/srv/app/app"]\n',
    },
  },
  {
    owner: 'platform',
    name: 'crlf-lower',
    outcome: 'migrated',
    files: { Dockerfile: 'from debian:bookworm-slim\r\ncopy run.sh /run.sh\r\ncmd ["/run.sh"]\r\n' },
  },
  {
    owner: 'platform',
    name: 'arg-base',
    outcome: 'migrated',
    files: { Dockerfile: 'ARG BASE=python:3.12-slim\nFROM ${BASE}\nCOPY main.py /opt/main.py\nCMD ["python", "/opt/main.py"]\n' },
  },
  {
    owner: 'platform',
    name: 'ubi-cli',
    outcome: 'migrated',
    files: {
      Dockerfile:
        'FROM registry.access.redhat.com/ubi9/ubi:9.4\nRUN dnf install -y awscli\nCOPY sync.sh /usr/local/bin/sync.sh\nCMD ["sync.sh"]\n',
    },
  },
];

export const fullName = (repo: FleetRepo): string => `${repo.owner}/${repo.name}`;
