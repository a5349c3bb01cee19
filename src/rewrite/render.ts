import type { DockerfileModel } from '../model/dockerfile.js';

import type { TextEdit } from '../edits.js';

/** An instruction to insert: keyword plus its arguments, one string per continuation line, and why (`--explain`). */
export interface NewInstruction {
  keyword: string;
  lines: string[];
  why?: string;
}

export function instruction(keyword: string, ...lines: string[]): NewInstruction {
  return { keyword, lines };
}

/** The same instruction, with the reason `--explain` shows for it. */
export function because(item: NewInstruction, why: string): NewInstruction {
  return { ...item, why };
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

  /** The edit that puts `items` on lines of their own after the line that ends at `offset`. */
  insertAfter(offset: number, items: NewInstruction[]): TextEdit {
    return { offset, remove: 0, insert: this.afterLine(items), reasons: items.map((i) => i.why ?? '') };
  }

  /** The edit that puts `items` on lines of their own before the line that starts at `offset`. */
  insertBefore(offset: number, items: NewInstruction[]): TextEdit {
    return { offset, remove: 0, insert: this.beforeLine(items), reasons: items.map((i) => i.why ?? '') };
  }
}
