import { ruleTester } from '../../__tests__/helpers/rule-tester.js';

const FROM = 'FROM debian:bookworm-slim\n';

// The closing step's ownership policy (issue 10, 15): what the user gets, and what is refused with a finding.
ruleTester(['system-dir-not-owned', 'root-home-path', 'other-user-home', 'other-user-dir'], {
  valid: [
    { name: 'an application WORKDIR', code: `${FROM}WORKDIR /app\nCMD ["sh"]\n` },
    { name: 'a chown to root is not a gift to anyone', code: `${FROM}RUN mkdir -p /app/cache && chown -R root:root /opt\nWORKDIR /app\n` },
    { name: 'mkdir of a trust store is kept quietly', code: `${FROM}RUN mkdir -p /etc/apt/keyrings\nWORKDIR /app\n` },
  ],
  invalid: [
    {
      name: 'a system WORKDIR, however it is written',
      code: `${FROM}WORKDIR //etc\nWORKDIR /a/../usr/lib\nCMD ["sh"]\n`,
      findings: [
        { messageId: 'trust', line: 2 },
        { messageId: 'system', line: 3 },
      ],
      lacks: ['find /etc', 'find "$d" -type d', '/usr/lib;'],
    },
    {
      name: "another user's home is not taken",
      code: `${FROM}RUN mkdir -p /home/oracle/data\nWORKDIR /app\n`,
      findings: [{ messageId: 'other-home', line: 2 }],
      lacks: ['in /home/oracle', ' /home/oracle/data;'],
      contains: ['RUN find /app -type d'],
    },
    {
      name: "root's home is not taken",
      code: `${FROM}RUN mkdir -p /root/cache\nWORKDIR /app\n`,
      findings: [{ messageId: 'root-home', line: 2 }],
      lacks: ['/root/cache;'],
    },
    {
      name: 'a directory the original gave its runtime user goes to the user: its directories, not its files',
      code: `${FROM}RUN mkdir -p /var/www/html && chown -R www-data:www-data /var/www\nCMD ["sh"]\n`,
      findings: [{ messageId: 'other-user-dir', line: 2 }],
      contains: ['RUN find /var/www -type d \\( ! -user peak-user'],
    },
    {
      name: 'a kernel file system given to another user stays as it is',
      code: `${FROM}RUN chown -R app /sys/fs/cgroup\nCMD ["sh"]\n`,
      findings: [{ messageId: 'kernel', line: 2 }],
      lacks: ['/sys/fs/cgroup;'],
    },
  ],
});

// Defence in depth: whatever the model concluded, the closing line passes over a directory that is gone.
ruleTester(['system-dir-not-owned'], {
  valid: [
    {
      name: 'a removed build directory is not named',
      code: `${FROM}RUN mkdir -p /usr/src/t && cd /usr/src/t && rm -rf /usr/src/t\nWORKDIR /app\n`,
    },
  ],
  invalid: [],
});
