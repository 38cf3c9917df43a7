/**
 * One benchmark per process: `npx tsx bench/main.ts <name> [--quick] --out FILE`.
 * bench/run.mjs runs each in its own child so that one benchmark's heap and
 * sandbox state do not bleed into the next one's timings. Progress goes to
 * stderr; the BenchResult is written as JSON to FILE.
 */
import { writeFileSync } from "node:fs";
import { CLI_FULL, CLI_QUICK, runCliThroughputBench } from "./cli-throughput.js";
import { COLD_FULL, COLD_QUICK, runColdStartBench } from "./cold-start.js";
import { EXPIRY_FULL, EXPIRY_QUICK, runExpiryBench } from "./expiry.js";
import { GRANT_FULL, GRANT_QUICK, runGrantOverheadBench } from "./grant-overhead.js";
import { IDENTITY_CENTER_FULL, IDENTITY_CENTER_QUICK, runIdentityCenterBench } from "./identity-center.js";
import { INVENTORY_FULL, INVENTORY_QUICK, runInventoryBench } from "./inventory.js";
import type { BenchResult, CommonOptions } from "./lib/result.js";

export const BENCHMARKS: Record<string, (common: CommonOptions) => Promise<BenchResult>> = {
  inventory: (c) => runInventoryBench({ ...c, ...(c.quick ? INVENTORY_QUICK : INVENTORY_FULL) }),
  "cold-start": (c) => runColdStartBench({ ...c, ...(c.quick ? COLD_QUICK : COLD_FULL) }),
  throughput: (c) => runCliThroughputBench({ ...c, ...(c.quick ? CLI_QUICK : CLI_FULL) }),
  "grant-overhead": (c) => runGrantOverheadBench({ ...c, ...(c.quick ? GRANT_QUICK : GRANT_FULL) }),
  expiry: (c) => runExpiryBench({ ...c, ...(c.quick ? EXPIRY_QUICK : EXPIRY_FULL) }),
  "identity-center": (c) =>
    runIdentityCenterBench({ ...c, ...(c.quick ? IDENTITY_CENTER_QUICK : IDENTITY_CENTER_FULL) }),
};

const [name, ...rest] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHMARKS[name];
const outIndex = rest.indexOf("--out");
const out = outIndex >= 0 ? rest[outIndex + 1] : undefined;
if (!bench || !out) {
  process.stderr.write(`usage: tsx bench/main.ts <${Object.keys(BENCHMARKS).join("|")}> [--quick] --out FILE\n`);
  process.exit(2);
}
const result = await bench({ quick: rest.includes("--quick"), log: (line) => process.stderr.write(`${line}\n`) });
writeFileSync(out, JSON.stringify(result));
