/**
 * Reads git objects without a work tree: one `git cat-file --batch` process per request list.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Runs git in `dir` and returns its stdout as text. */
export function git(dir, args, input) {
  return execFileSync('git', ['-C', dir, ...args], { input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
}

/**
 * The contents of `names` (`<commit>:<path>` object names) in the repository at `dir`, as a Map from name to text;
 * names git cannot find are absent.
 */
export function readObjects(dir, names) {
  const out = new Map();
  const unique = [...new Set(names)].filter((n) => !n.includes('\n'));
  for (let start = 0; start < unique.length; start += 2000) {
    const chunk = unique.slice(start, start + 2000);
    const result = spawnSync('git', ['-C', dir, 'cat-file', '--batch'], { input: chunk.join('\n') + '\n', maxBuffer: 1 << 30 });
    if (result.status !== 0) throw new Error(`git cat-file failed in ${dir}: ${result.stderr}`);
    const buf = result.stdout;
    let pos = 0;
    for (const name of chunk) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      const header = buf.subarray(pos, nl).toString('utf8');
      pos = nl + 1;
      const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
      if (!m) continue; // "<name> missing" or "ambiguous"
      const size = Number(m[3]);
      if (m[2] === 'blob') out.set(name, buf.subarray(pos, pos + size).toString('utf8'));
      pos += size + 1;
    }
  }
  return out;
}

/** Which of `names` (object names such as `<commit>:<path>` or `<commit>^{commit}`) exist in the repository at `dir`. */
export function existingObjects(dir, names) {
  const unique = [...new Set(names)].filter((n) => !n.includes('\n'));
  const found = new Set();
  for (let start = 0; start < unique.length; start += 5000) {
    const chunk = unique.slice(start, start + 5000);
    const result = spawnSync('git', ['-C', dir, 'cat-file', '--batch-check'], { input: chunk.join('\n') + '\n', maxBuffer: 1 << 30 });
    const lines = result.stdout.toString('utf8').split('\n');
    chunk.forEach((name, k) => {
      if (/^[0-9a-f]{40,64} \w+ \d+$/.test(lines[k] ?? '')) found.add(name);
    });
  }
  return found;
}

/**
 * The git directory fetched for a GitHub repository `owner/name` under `reposDir` (`<owner>+<name>/repo`, matched
 * without regard to case, as GitHub names are), or undefined.
 */
export function repoDir(reposDir, ownerName, cache = new Map()) {
  if (!cache.has(reposDir)) {
    let entries = [];
    try {
      entries = fs.readdirSync(reposDir);
    } catch {
      entries = [];
    }
    cache.set(reposDir, new Map(entries.map((e) => [e.toLowerCase(), e])));
  }
  const dir = cache.get(reposDir).get(ownerName.replace('/', '+').toLowerCase());
  if (!dir) return undefined;
  const candidate = path.join(reposDir, dir, 'repo');
  return fs.existsSync(candidate) ? candidate : undefined;
}
