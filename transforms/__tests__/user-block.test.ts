import { ruleTester } from '../../__tests__/helpers/rule-tester.js';

const FROM = 'FROM debian:bookworm-slim\n';
const GUARD = 'RUN : "${PEAK_USER_ID:?build argument PEAK_USER_ID is required';

// Never root (issue 8): whatever created the user, the image refuses an empty UID, and a fixed UID is not compliant.
ruleTester(['fixed-uid'], {
  valid: [
    { name: 'the block peak-fix inserts', code: `${FROM}WORKDIR /app\n` },
    {
      name: 'a hand migration with the argument',
      code: `${FROM}ARG PEAK_USER_ID\nRUN useradd -l -m -u "$PEAK_USER_ID" peak-user\nUSER $PEAK_USER_ID\n`,
    },
    { name: 'useradd of another user that mentions peak-user in a string', code: `${FROM}RUN useradd -m app && echo "peak-user later"\n` },
  ],
  invalid: [
    {
      name: 'a defaulted UID gets the guard and the finding',
      code: `${FROM}ARG PEAK_USER_ID\nRUN useradd -l -m -u \${PEAK_USER_ID:-1001} peak-user\nUSER $PEAK_USER_ID\n`,
      findings: [{ messageId: 'fixed-value', line: 3 }],
      contains: [GUARD],
    },
    {
      name: 'no -u at all',
      code: `${FROM}RUN useradd -m peak-user\nUSER peak-user\n`,
      findings: [{ messageId: 'no-uid', line: 2 }],
      contains: [GUARD],
    },
    {
      name: 'a fixed UID with USER by name',
      code: `${FROM}RUN useradd -u 1000 -m peak-user\nUSER peak-user\n`,
      findings: [{ messageId: 'fixed-value', line: 2 }],
    },
  ],
});

ruleTester(['uid-shift', 'uid-conflict', 'onbuild'], {
  valid: [{ name: 'a system user keeps its number', code: `${FROM}RUN useradd -r -u 999 svc\n` }],
  invalid: [
    {
      name: 'a later useradd without -u',
      code: `${FROM}RUN useradd -m appuser\n`,
      findings: [{ messageId: 'uid-shift', line: 2 }],
    },
    {
      name: 'a later useradd with a UID Peak may use',
      code: `${FROM}RUN useradd -u 1001 pgweb\n`,
      findings: [{ messageId: 'uid-conflict', line: 2 }],
    },
    {
      name: 'ONBUILD triggers of the final stage',
      code: `${FROM}ONBUILD RUN make\n`,
      findings: [{ messageId: 'onbuild', line: 2 }],
    },
  ],
});
