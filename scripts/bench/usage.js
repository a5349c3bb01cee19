// Preloaded with `node --import` by the bench: when the process exits, writes what it used to the file named
// by BENCH_USAGE_FILE: peak resident set size (KB) and CPU time (ms, user + system), all threads included.
// CPU time is what the work costs whatever else the machine runs; wall time is what a user waits.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ peakKb: usage.maxRSS, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  });
}
