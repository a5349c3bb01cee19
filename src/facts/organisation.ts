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
const FIELDS = ['os', 'shell', 'userCreation', 'user', 'takenUids', 'takenNames', 'home', 'migrated'] as const;
/** A user name as useradd and busybox accept it. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const MAX_UID = 2 ** 31 - 1;

function isUid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UID;
}

/**
 * Validates `images` and returns its entries, or the problems: one line per bad field of each entry, such as
 * `images["corp/*"].user: expected a name or a UID`.
 */
export function parseCatalog(value: unknown, source: string): { entries: CatalogEntry[]; problems: string[] } {
  const problems: string[] = [];
  const entries: CatalogEntry[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { entries, problems: ['images: expected an object of repository glob -> facts'] };
  }
  for (const [pattern, raw] of Object.entries(value as Record<string, unknown>)) {
    const at = (field?: string) => `images[${JSON.stringify(pattern)}]${field ? `.${field}` : ''}`;
    if (pattern.trim() === '' || /[\s@]/.test(pattern)) {
      problems.push(`${at()}: expected a repository glob (no spaces, no digest)`);
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at()}: expected an object with ${FIELDS.join(', ')}`);
      continue;
    }
    const e = raw as Record<string, unknown>;
    const before = problems.length;
    for (const key of Object.keys(e)) {
      if (!(FIELDS as readonly string[]).includes(key)) problems.push(`${at(key)}: unknown field (allowed: ${FIELDS.join(', ')})`);
    }
    if (e.os !== undefined && e.os !== 'linux' && e.os !== 'windows') problems.push(`${at('os')}: expected "linux" or "windows"`);
    if (e.shell !== undefined && typeof e.shell !== 'boolean') problems.push(`${at('shell')}: expected true or false`);
    if (e.userCreation !== undefined && !USER_CREATION.includes(e.userCreation as UserCreation)) {
      problems.push(`${at('userCreation')}: expected one of ${USER_CREATION.join(', ')}`);
    }
    const user = e.user;
    const userIsUid = isUid(user) || (typeof user === 'string' && /^\d+$/.test(user) && isUid(Number(user)));
    if (user !== undefined && !userIsUid && !(typeof user === 'string' && USER_NAME.test(user))) {
      problems.push(`${at('user')}: expected a name or a UID`);
    }
    if (e.takenUids !== undefined && !(Array.isArray(e.takenUids) && e.takenUids.every(isUid))) {
      problems.push(`${at('takenUids')}: expected a list of UIDs`);
    }
    if (
      e.takenNames !== undefined &&
      !(Array.isArray(e.takenNames) && e.takenNames.every((n) => typeof n === 'string' && USER_NAME.test(n)))
    ) {
      problems.push(`${at('takenNames')}: expected a list of user names`);
    }
    if (e.home !== undefined && !(typeof e.home === 'string' && /^\/[A-Za-z0-9._@+\-/]*$/.test(e.home) && !e.home.includes('..'))) {
      problems.push(`${at('home')}: expected an absolute path`);
    }
    if (e.migrated !== undefined && typeof e.migrated !== 'boolean') problems.push(`${at('migrated')}: expected true or false`);
    if (e.shell === false && e.userCreation !== undefined && e.userCreation !== 'none') {
      problems.push(`${at('userCreation')}: an image without a shell cannot run ${String(e.userCreation)}: use "none"`);
    }
    if (problems.length > before) continue;

    const shell = e.shell !== undefined ? (e.shell as boolean) : e.userCreation !== 'none' && e.os !== 'windows';
    const facts: ImageFacts = {
      os: (e.os as ImageFacts['os'] | undefined) ?? 'linux',
      shell,
      userCreation: (e.userCreation as UserCreation | undefined) ?? (shell ? 'unknown' : 'none'),
      takenUids: (e.takenUids as number[] | undefined) ?? [],
      known: true,
      source: { kind: 'config', ref: `${source} ${at()}` },
    };
    if (user !== undefined) facts.defaultUser = userIsUid ? { uid: Number(user) } : { name: user as string };
    if (e.takenNames !== undefined) facts.takenNames = e.takenNames as string[];
    if (e.home !== undefined) facts.home = e.home as string;
    if (e.migrated !== undefined) facts.migrated = e.migrated as boolean;
    entries.push({ pattern, facts });
  }
  return { entries, problems };
}

/** The first entry whose glob matches the reference's repository (`*` stays within one path segment, `**` does not). */
export function catalogLookup(entries: readonly CatalogEntry[]): FactsLookup {
  const matchers = entries.map((entry) => ({ entry, match: picomatch(entry.pattern, { dot: true }) }));
  return (reference) => {
    const { repository } = referenceKey(reference);
    return matchers.find((m) => m.match(repository))?.entry.facts;
  };
}
