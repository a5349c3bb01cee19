/**
 * A CommonJS package imported on demand, as its `module.exports`. Under node the namespace has the exports both as
 * named exports and as `default`; in the esbuild bundle (scripts/bundle.js) a split-off CommonJS chunk has only
 * `default`. Reading `default` first works in both.
 */
export async function importCommonJs<T extends object>(load: () => Promise<T>): Promise<T> {
  const namespace = (await load()) as T & { default?: unknown };
  const exports = namespace.default;
  return exports !== null && typeof exports === 'object' ? (exports as T) : namespace;
}
