import picomatch from 'picomatch';
import type { FactsLookup, ImageFacts, UserCreation } from './types.js';
import { referenceKey } from './reference.js';

/**
 * The organisation's catalog: config `images`, repository glob -> facts, for the internal images no built-in
 * table can know (`"registry.corp/platform/*": { "user": 1001 }`). It wins over the built-in table; the facts
 * file wins over it for the exact image it was read from. The first entry whose glob matches wins.
 */
export interface CatalogEntry {
  pattern: string;
  facts: ImageFacts;
}

const USER_CREATION: readonly UserCreation[] = ['useradd', 'busybox', 'passwd-file', 'none', 'unknown'];
/** A user name as useradd and busybox accept it. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const MAX_UID = 2 ** 31 - 1;

function isUid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UID;
}

/** A UID as a number or as a string of digits (`"user": "1001"`). */
function isUidValue(value: unknown): boolean {
  return isUid(value) || (typeof value === 'string' && /^\d+$/.test(value) && isUid(Number(value)));
}

/** What a field of an entry may hold, and the problem when it holds something else. */
interface FieldRule {
  valid: (value: unknown) => boolean;
  expected: string;
}

/** The fields of an entry, in the order their problems are listed. */
const FIELD_RULES = {
  os: { valid: (v) => v === 'linux' || v === 'windows', expected: 'expected "linux" or "windows"' },
  shell: { valid: (v) => typeof v === 'boolean', expected: 'expected true or false' },
  userCreation: { valid: (v) => USER_CREATION.includes(v as UserCreation), expected: `expected one of ${USER_CREATION.join(', ')}` },
  user: { valid: (v) => isUidValue(v) || (typeof v === 'string' && USER_NAME.test(v)), expected: 'expected a name or a UID' },
  takenUids: { valid: (v) => Array.isArray(v) && v.every(isUid), expected: 'expected a list of UIDs' },
  takenNames: {
    valid: (v) => Array.isArray(v) && v.every((n) => typeof n === 'string' && USER_NAME.test(n)),
    expected: 'expected a list of user names',
  },
  home: {
    valid: (v) => typeof v === 'string' && /^\/[A-Za-z0-9._@+\-/]*$/.test(v) && !v.includes('..'),
    expected: 'expected an absolute path',
  },
  migrated: { valid: (v) => typeof v === 'boolean', expected: 'expected true or false' },
} satisfies Record<string, FieldRule>;

type Field = keyof typeof FIELD_RULES;
const FIELDS = Object.keys(FIELD_RULES) as Field[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates `images` and returns its entries, or the problems: one line per bad field of each entry, such as
 * `images["corp/*"].user: expected a name or a UID`.
 */
export function parseCatalog(value: unknown, source: string): { entries: CatalogEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: CatalogEntry[] = [];
  if (!isObject(value)) return { entries, problems: ['images: expected an object of repository glob -> facts'] };
  for (const [pattern, raw] of Object.entries(value)) {
    const at = (field?: string) => `images[${JSON.stringify(pattern)}]${field ? `.${field}` : ''}`;
    const found = entryProblems(pattern, raw, at);
    if (found.length > 0) problems.push(...found);
    else entries.push({ pattern, facts: entryFacts(raw as Record<string, unknown>, `${source} ${at()}`) });
  }
  return { entries, problems };
}

/** What is wrong with one entry: its glob, or else each of its fields; `at` names the entry or one of its fields. */
function entryProblems(pattern: string, raw: unknown, at: (field?: string) => string): string[] {
  if (pattern.trim() === '' || /[\s@]/.test(pattern)) return [`${at()}: expected a repository glob (no spaces, no digest)`];
  if (!isObject(raw)) return [`${at()}: expected an object with ${FIELDS.join(', ')}`];
  const problems = Object.keys(raw)
    .filter((key) => !(FIELDS as readonly string[]).includes(key))
    .map((key) => `${at(key)}: unknown field (allowed: ${FIELDS.join(', ')})`);
  for (const field of FIELDS) {
    if (raw[field] !== undefined && !FIELD_RULES[field].valid(raw[field])) problems.push(`${at(field)}: ${FIELD_RULES[field].expected}`);
  }
  if (raw.shell === false && raw.userCreation !== undefined && raw.userCreation !== 'none') {
    problems.push(`${at('userCreation')}: an image without a shell cannot run ${String(raw.userCreation)}: use "none"`);
  }
  return problems;
}

/** The facts of a valid entry; `ref` names it as their source. */
function entryFacts(e: Record<string, unknown>, ref: string): ImageFacts {
  const shell = e.shell !== undefined ? (e.shell as boolean) : e.userCreation !== 'none' && e.os !== 'windows';
  const facts: ImageFacts = {
    os: (e.os as ImageFacts['os'] | undefined) ?? 'linux',
    shell,
    userCreation: (e.userCreation as UserCreation | undefined) ?? (shell ? 'unknown' : 'none'),
    takenUids: (e.takenUids as number[] | undefined) ?? [],
    known: true,
    source: { kind: 'config', ref },
  };
  if (e.user !== undefined) facts.defaultUser = isUidValue(e.user) ? { uid: Number(e.user) } : { name: e.user as string };
  if (e.takenNames !== undefined) facts.takenNames = e.takenNames as string[];
  if (e.home !== undefined) facts.home = e.home as string;
  if (e.migrated !== undefined) facts.migrated = e.migrated as boolean;
  return facts;
}

/** The first entry whose glob matches the reference's repository (`*` stays within one path segment, `**` does not). */
export function catalogLookup(entries: readonly CatalogEntry[]): FactsLookup {
  const matchers = entries.map((entry) => ({ entry, match: picomatch(entry.pattern, { dot: true }) }));
  return (reference) => {
    const { repository } = referenceKey(reference);
    return matchers.find((m) => m.match(repository))?.entry.facts;
  };
}
