import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { aggregate, readResults, ResultsError } from '../fleet/report/data.js';
import { fleetHtml } from '../fleet/report/html.js';
import { fleetCsv, fleetFailed, fleetMarkdown } from '../fleet/report/text.js';
import { failure, PlainUsageError, seeHelp, type CommandDefinition } from './command.js';

export interface ReportIO {
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** The time printed in the HTML page (tests fix it). */
  now?: () => Date;
}

/**
 * `peak-fix report RESULTS.jsonl…`: the organisation's view of a fleet run. Markdown on stdout; `--csv`,
 * `--html` and `--failed` write files. Exit 0, or 2 when an input cannot be read or is not a results file.
 */
export const reportCommand: CommandDefinition<Record<string, unknown>> = {
  name: 'report',
  usage:
    '$0 RESULTS.jsonl... [--csv FILE] [--html FILE] [--failed FILE]\n\n' +
    'Summarises the lines that `peak-fix --report-file FILE` appended, one per repository run (the latest line of a ' +
    'repository wins, so a re-run supersedes a failure): totals, by base family, by finding rule, and the repositories ' +
    'that need a person with the reason, as Markdown on stdout.',
  command: '$0 <results..>',
  describe: false,
  builder: (y) => y.positional('results', { type: 'string', array: true, describe: 'Results files (JSON lines)' }),
  options: {
    csv: { type: 'string', requiresArg: true, describe: 'Also write one CSV row per Dockerfile to FILE' },
    html: {
      type: 'string',
      requiresArg: true,
      describe: 'Also write a self-contained HTML page (charts, sortable, filterable table) to FILE',
    },
    failed: {
      type: 'string',
      requiresArg: true,
      describe: 'Write the repositories to run again (non-zero exit or a file that failed), one owner/name a line, to FILE',
    },
    quiet: { type: 'boolean', describe: 'Print no Markdown' },
  },
  examples: [
    ['$0 results.jsonl', 'Markdown summary'],
    ['$0 results/*.jsonl --html fleet.html --csv fleet.csv', 'The page and the spreadsheet'],
    ['$0 results.jsonl --failed again.txt && turbolift foreach --repos again.txt -- peak-fix --write', 'Run the failures again'],
  ],
  epilog: 'Exit codes: 0 done, 2 usage error or an unreadable results file.',
  wrap: 100,
  fail: (message, error) => new PlainUsageError(seeHelp('report', failure(message, error).replace(/\s*\n\s*/g, ' '))),
  read: (args) => args,
  handler: report,
};

async function report(args: Record<string, unknown>, io: ReportIO): Promise<number> {
  const inputs = ((args.results as unknown[] | undefined) ?? []).map((file) => path.resolve(io.cwd, String(file)));
  let data;
  try {
    const { results, lines } = await readResults(inputs);
    data = aggregate(results, lines, inputs);
  } catch (error) {
    if (!(error instanceof ResultsError)) throw error;
    io.err(`peak-fix: report: ${error.message}\n`);
    return 2;
  }
  const write = async (flag: string, content: string): Promise<void> => {
    const value = args[flag];
    if (typeof value !== 'string') return;
    const file = path.resolve(io.cwd, value);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  };
  await write('csv', fleetCsv(data));
  await write('html', fleetHtml(data, (io.now?.() ?? new Date()).toISOString()));
  await write('failed', fleetFailed(data));
  if (args.quiet !== true) io.out(fleetMarkdown(data));
  return 0;
}
