import { ruleTester } from '../../__tests__/helpers/rule-tester.js';

const FROM = 'FROM debian:bookworm-slim\n';

// COPY/ADD: the application's files go to the user; operating-system locations keep their owner (issue 15).
ruleTester(['chown-system-path', 'root-home-path', 'other-user-home'], {
  valid: [
    { name: 'an application directory', code: `${FROM}COPY app/ /app/\n` },
    { name: 'a directory copied to a directory of /', code: `${FROM}COPY app /app\n` },
    { name: 'a relative destination under an application WORKDIR', code: `${FROM}WORKDIR /srv\nCOPY . .\n` },
    { name: 'a relative destination under a WORKDIR named by a variable', code: `${FROM}ENV APP=/srv/app\nWORKDIR $APP\nCOPY . .\n` },
    { name: 'the whole build context onto /', code: `${FROM}COPY . /\n` },
    {
      name: "a stage's output into the application's directory",
      code: `FROM golang AS b\nRUN go build -o /out/app .\n${FROM}COPY --from=b /out /app\n`,
    },
  ],
  invalid: [
    {
      name: 'a file copied to / keeps root as owner (the program reads and runs it)',
      code: `${FROM}COPY app.py /\nCMD ["python3", "/app.py"]\n`,
      findings: [{ messageId: 'root-file', line: 2 }],
      lacks: ['--chown'],
    },
    {
      name: 'an entrypoint copied to a path in /',
      code: `${FROM}COPY docker-entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n`,
      findings: [{ messageId: 'root-file', line: 2 }],
      lacks: ['--chown'],
    },
    {
      name: 'a folder copied onto / is a root file system',
      code: `${FROM}COPY rootfs/ /\n`,
      findings: [{ messageId: 'root-filesystem', line: 2 }],
      lacks: ['--chown'],
    },
    {
      name: 'a heredoc into /etc (only the first line holds the destination)',
      code: `${FROM}COPY <<EOF /etc/app.conf\nport=8080\nEOF\n`,
      findings: [{ messageId: 'trust', line: 2 }].map(() => ({ messageId: 'os-location', line: 2 })),
      lacks: ['--chown'],
    },
    {
      name: 'a runtime copied through its variable',
      code: `FROM eclipse-temurin:21 AS jre\n${FROM}COPY --from=jre $JAVA_HOME $JAVA_HOME\n`,
      findings: [{ messageId: 'runtime', line: 3 }],
      lacks: ['--chown'],
    },
    {
      name: 'a tool chain copied from an image',
      code: `${FROM}COPY --from=golang:1.22 /usr/local/go /usr/local/go\n`,
      findings: [{ messageId: 'os-location', line: 2 }],
      lacks: ['--chown'],
    },
    {
      name: 'packages installed into /usr/local',
      code: `FROM python:3.12 AS b\nRUN pip install --prefix=/install x\n${FROM}COPY --from=b /install /usr/local\n`,
      findings: [{ messageId: 'os-location', line: 4 }],
      lacks: ['--chown'],
    },
    {
      name: 'a relative destination under a system WORKDIR named by a variable',
      code: `${FROM}ENV CONF=/etc/app\nWORKDIR $CONF\nCOPY app.conf .\n`,
      findings: [{ messageId: 'os-location', line: 4 }],
      lacks: ['--chown'],
    },
    {
      name: 'an entrypoint into /usr/local/bin',
      code: `${FROM}COPY docker-entrypoint.sh /usr/local/bin/\n`,
      findings: [{ messageId: 'os-location', line: 2 }],
      contains: ['COPY docker-entrypoint.sh /usr/local/bin/'],
      lacks: ['--chown'],
    },
    {
      name: 'a root file system onto /',
      code: `FROM debian AS rootfs\nRUN mkdir /out\n${FROM}COPY --from=rootfs /out/ /\n`,
      findings: [{ messageId: 'root-filesystem', line: 4 }],
      lacks: ['--chown'],
    },
    {
      name: 'a relative destination under a system WORKDIR',
      code: `${FROM}WORKDIR /etc/nginx\nCOPY nginx.conf .\n`,
      findings: [{ messageId: 'os-location', line: 3 }],
      lacks: ['--chown'],
    },
    {
      name: "into root's home",
      code: `${FROM}COPY ssh_config /root/.ssh/config\n`,
      findings: [{ messageId: 'copy-into-root-home', line: 2 }],
      lacks: ['--chown'],
    },
    {
      name: "into another user's home",
      code: `FROM node:20\nCOPY . /home/node/app\n`,
      findings: [{ messageId: 'copy-into-other-home', line: 2 }],
      lacks: ['--chown'],
    },
  ],
});

// --link layers cannot resolve names: the numeric form, in both presets.
ruleTester(['chown-system-path'], {
  valid: [
    {
      name: '--link gets the numeric --chown',
      code: `FROM golang AS build\nRUN go build -o /out/app .\n${FROM}WORKDIR /app\nCOPY --link --from=build /out/app .\n`,
    },
  ],
  invalid: [
    {
      name: '--link with peak-doc is numeric too',
      code: `FROM golang AS build\nRUN go build -o /out/app .\n${FROM}WORKDIR /app\nCOPY --link --from=build /out/app .\nCOPY x /usr/bin/x\n`,
      options: { preset: 'peak-doc' },
      findings: [{ messageId: 'os-location', line: 6 }],
      contains: ['COPY --chown=$PEAK_USER_ID:$PEAK_USER_ID --link --from=build /out/app .'],
    },
  ],
});
