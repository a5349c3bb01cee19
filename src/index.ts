export { fixDockerfile } from './engine.js';
export { validateOptions } from './options.js';
export { DEFAULT_OPTIONS, PeakFixError } from './types.js';
export type { EngineInputs, FinalBase, Finding, FixOptions, FixResult, Preset, Severity, WorkdirMode } from './types.js';
export type { FactSource, FactsLookup, ImageFacts, RuntimePath, UserCreation } from './facts/types.js';
export type { TextEdit } from './edits.js';
