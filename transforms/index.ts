import type { Transform } from '../src/rewrite/transform.js';
import { baseUserFiles, laterUsers, oldShadow, onbuild, privilegeDrop, rootHomePaths, rootHomeWrite, sudo } from './checks.js';
import { closing } from './closing/index.js';
import { copyChown } from './copy-chown.js';
import { finalUser } from './final-user.js';
import { privilegedPort } from './privileged-port.js';
import { serverStart } from './server-start.js';
import { userBlock } from './user-block.js';
import { volumeOwner } from './volume-owner.js';

/** In application order: edits at the same offset come out in this order. */
export const transforms: readonly Transform[] = [
  userBlock,
  copyChown,
  volumeOwner,
  closing,
  finalUser,
  privilegeDrop,
  sudo,
  privilegedPort,
  rootHomeWrite,
  oldShadow,
  onbuild,
  laterUsers,
  rootHomePaths,
  serverStart,
  baseUserFiles,
];
