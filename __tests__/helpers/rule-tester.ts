import { describe, expect, test } from '@jest/globals';
import { fixDockerfile, type FixOptions } from '../../src/index.js';

/**
 * eslint's RuleTester, for one transform: `valid` inputs get no finding of the rule, `invalid` ones get exactly
 * the listed findings (rule, message id, line) and, where given, the output.
 */
export interface InvalidCase {
  name: string;
  code: string;
  options?: Partial<FixOptions>;
  findings: { messageId: string; line: number }[];
  /** Text the output must contain (the fix), and text it must not. */
  contains?: string[];
  lacks?: string[];
}

export interface ValidCase {
  name: string;
  code: string;
  options?: Partial<FixOptions>;
}

export function ruleTester(rules: string[], cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  describe(rules.join(', '), () => {
    for (const c of cases.valid) {
      test(`valid: ${c.name}`, () => {
        const result = fixDockerfile(c.code, c.options);
        expect(result.findings.filter((f) => rules.includes(f.rule))).toEqual([]);
      });
    }
    if (cases.invalid.length > 0)
      test.each(cases.invalid.map((c) => [c.name, c] as const))('invalid: %s', (_name, c) => {
        const result = fixDockerfile(c.code, c.options);
        const found = result.findings.filter((f) => rules.includes(f.rule)).map((f) => ({ messageId: f.messageId, line: f.line }));
        expect(found).toEqual(c.findings);
        for (const text of c.contains ?? []) expect(result.output).toContain(text);
        for (const text of c.lacks ?? []) expect(result.output).not.toContain(text);
      });
  });
}
