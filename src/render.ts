import type { DockerfileModel } from './model/dockerfile.js';

/** An instruction to insert: keyword plus its arguments, one string per continuation line. */
export interface NewInstruction {
  keyword: string;
  lines: string[];
}

export function instruction(keyword: string, ...lines: string[]): NewInstruction {
  return { keyword, lines };
}

/** Prints new instructions the way the file writes its own: its case, line breaks and escape character. */
export class Renderer {
  constructor(private readonly model: DockerfileModel) {}

  get eol(): string {
    return this.model.lines.eol;
  }

  render(item: NewInstruction): string {
    const keyword = this.model.lowercase ? item.keyword.toLowerCase() : item.keyword.toUpperCase();
    return `${keyword} ${item.lines.join(` ${this.model.escape}${this.eol}    `)}`;
  }

  /** Text to insert at the end of a line so that `items` follow it on lines of their own. */
  afterLine(items: NewInstruction[]): string {
    return items.map((i) => this.eol + this.render(i)).join('');
  }

  /** Text to insert at the start of a line so that `items` precede it on lines of their own. */
  beforeLine(items: NewInstruction[]): string {
    return items.map((i) => this.render(i) + this.eol).join('');
  }
}
