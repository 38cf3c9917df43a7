// Preloaded into a measured Node process (node --import): on exit, writes the
// process's peak resident set size (KiB, getrusage ru_maxrss) to BENCH_RSS_FILE.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
