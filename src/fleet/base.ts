import { parseDockerfile } from '../model/dockerfile.js';
import { stageBase } from '../model/base.js';

export interface BaseImage {
  /** The final stage's image, ARG defaults substituted and `FROM <stage>` followed. */
  image: string;
  /** The family that decides how a user is created (`debian`, `alpine`, `distroless`, ...). */
  family: string;
}

/**
 * The base image and family of a Dockerfile's final stage, for the results file and the pull-request text.
 * Undefined when the text cannot be parsed that far (the file's error says why).
 */
export function baseImageOf(text: string | undefined): BaseImage | undefined {
  if (text === undefined) return undefined;
  try {
    const model = parseDockerfile(text);
    const final = model.stages[model.stages.length - 1];
    if (!final) return undefined;
    const base = stageBase(model, final);
    return { image: base.reference, family: base.image.family };
  } catch {
    return undefined;
  }
}
