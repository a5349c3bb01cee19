/**
 * What the rewrite needs to know about a base image, as facts with a source a reviewer can check.
 * Producers: the built-in catalog (src/facts/builtin.ts), the organisation's catalog (config `images`), the facts
 * file written by `peak-fix inspect`, and `--inspect-images`. The engine only consumes them: it never asks
 * Docker or the disk, so a rewrite is a pure function of the text, the options and these facts.
 */

/** How a user can be created in the image, best first. */
export type UserCreation =
  /** shadow's `useradd` (Debian, Ubuntu, RHEL with shadow-utils). */
  | 'useradd'
  /** busybox `adduser`/`addgroup` (Alpine, busybox): no `-o`, UIDs up to 256000. */
  | 'busybox'
  /** a shell but no user tool (ubi-minimal): append the passwd/group entries directly. */
  | 'passwd-file'
  /** no shell (distroless, scratch, chiseled): no RUN at all, numeric ids only. */
  | 'none'
  /** not known: one portable line that tries useradd, then busybox adduser, then the passwd file. */
  | 'unknown';

/** Where a fact was read. */
export interface FactSource {
  kind: 'built-in' | 'config' | 'inspected' | 'guess' | 'repository';
  /**
   * A URL of the image's published Dockerfile or documentation, a config file path, or an image digest;
   * for `repository` (an image built by the same repository, learned from compose or bake), the Dockerfile.
   */
  ref: string;
}

/** A path a server writes at run time (issue: servers start). */
export interface RuntimePath {
  path: string;
  /** `dir`: the directory must be writable; `file`: an (empty) file the program rewrites, e.g. a pid file. */
  kind: 'dir' | 'file';
  /** Why: the line of the image's Dockerfile, entrypoint or documentation that says so. */
  source: string;
}

export interface ImageFacts {
  os: 'linux' | 'windows';
  /** `/bin/sh` exists: RUN instructions can run. */
  shell: boolean;
  userCreation: UserCreation;
  /** The user the image runs as when a Dockerfile says nothing; undefined means root. Name and/or UID. */
  defaultUser?: { name?: string; uid?: number };
  /**
   * `find` exists (Debian's findutils is Essential, busybox has one). False or undefined: it may be missing (Fedora,
   * ubi-minimal), so ownership fixes fall back to `chown -R` when `command -v find` fails.
   */
  find?: boolean;
  /** UIDs already used by the image's own users (useradd refuses them without -o, busybox always). */
  takenUids: number[];
  /** User names the image already has. */
  takenNames?: string[];
  /**
   * The image creates users without fixing their UIDs (mysql's Debian images: `useradd -r -g mysql mysql` takes
   * whatever system UID is free), so some UID besides takenUids is taken and no one can say which.
   */
  unnamedUidsTaken?: boolean;
  /** Home of the default user, when it is not root. */
  home?: string;
  /** Paths the image's program writes at run time (servers). */
  runtimePaths?: RuntimePath[];
  /** A dev container image (an editor opens it; it is never deployed): a file built on it is skipped. */
  devContainer?: boolean;
  /**
   * The group the image gives its program's directories to, group-writable, so that any UID in it can run the
   * program (OpenShift's arbitrary UIDs: group 0; jupyter: users): the user joins it.
   */
  writerGroup?: { gid: number; name: string };
  /** The image was itself migrated (it ends as `USER $PEAK_USER_ID`): children must switch back to root. */
  migrated?: boolean;
  /** The family the catalog names (reports and pull-request texts); derived from the facts when absent. */
  family?: 'debian' | 'rhel' | 'alpine' | 'distroless' | 'windows' | 'unknown';
  /** False when nothing was known and these are the defaults of an unknown image. */
  known: boolean;
  source: FactSource;
}

/** Facts for an image reference (ARG defaults already substituted), or undefined when this source does not know it. */
export type FactsLookup = (reference: string) => ImageFacts | undefined;
