import { ruleTester } from '../../__tests__/helpers/rule-tester.js';

const FROM = 'FROM debian:bookworm-slim\n';

// VOLUME: given to the user before the VOLUME (a change after it is discarded), by the same ownership policy.
ruleTester(['volume-not-owned', 'system-dir-not-owned', 'root-home-path', 'other-user-home'], {
  valid: [
    {
      name: 'an application volume, one line or JSON over several lines',
      code: `${FROM}VOLUME [ \\\n  "/srv/data", \\\n  "/srv/logs" \\\n]\n`,
    },
    {
      name: 'a volume the stage already gave to the user',
      code: `${FROM}RUN useradd -u "$PEAK_USER_ID" peak-user && mkdir /d && chown peak-user /d\nVOLUME /d\n`,
    },
  ],
  invalid: [
    {
      name: 'a variable path',
      code: `${FROM}VOLUME $DATA\n`,
      findings: [{ messageId: 'not-literal', line: 2 }],
    },
    {
      name: "kernel, trust and root's paths, however they are written",
      code: `${FROM}VOLUME /sys/fs/cgroup //etc/app /root/cache\n`,
      findings: [
        { messageId: 'kernel', line: 2 },
        { messageId: 'trust', line: 2 },
        { messageId: 'root-home', line: 2 },
      ],
      lacks: ['mkdir -p /sys', 'mkdir -p /etc', 'mkdir -p /root'],
    },
    {
      name: 'a volume before the user exists (a hand migration that creates it later)',
      code: `${FROM}VOLUME /data\nRUN useradd -l -m -u "$PEAK_USER_ID" peak-user\n`,
      findings: [{ messageId: 'before-user', line: 2 }],
    },
  ],
});
