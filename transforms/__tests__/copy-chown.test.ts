import { ruleTester } from '../../__tests__/helpers/rule-tester.js';

const FROM = 'FROM debian:bookworm-slim\n';

// COPY/ADD: the application's files go to the user; operating-system locations keep their owner (issue 15).
ruleTester(['chown-system-path', 'root-home-path', 'other-user-home'], {
  valid: [
    { name: 'a file copied to /', code: `${FROM}COPY app.py /\nCMD ["python3", "/app.py"]\n` },
    { name: 'an application directory', code: `${FROM}COPY app/ /app/\n` },
    { name: 'a relative destination under an application WORKDIR', code: `${FROM}WORKDIR /srv\nCOPY . .\n` },
  ],
  invalid: [
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
