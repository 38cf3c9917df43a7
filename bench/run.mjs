#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only inventory,throughput] [-- --update-readme]`
//
// Runs each benchmark in its own `npx tsx bench/main.ts <name>` child, one after
// the other (never in parallel: they time things), and prints one Markdown
// table of every row, the method notes, and the machine it ran on. With
// --update-readme the table also replaces the measured section of bench/README.md.
// The order puts the grant-overhead benchmark last, after the builds it reuses.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ORDER = ["inventory", "cold-start", "throughput", "grant-overhead", "expiry", "identity-center"];
const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyIndex = args.indexOf("--only");
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? "").split(",") : ORDER;
for (const name of only) {
  if (!ORDER.includes(name)) {
    process.stderr.write(`unknown benchmark ${name}; choose from ${ORDER.join(", ")}\n`);
    process.exit(2);
  }
}

function machine() {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1].trim();
  } catch {
    // Not Linux: os.cpus() is the fallback.
  }
  return {
    nproc: cpus().length,
    cpu,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
    node: process.version,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}

const cell = (text) => String(text).replace(/\|/g, "\\|");

const started = Date.now();
const before = machine();
const dir = mkdtempSync(join(tmpdir(), "elevate-bench-run-"));
const results = [];
const failures = [];
try {
  for (const name of ORDER.filter((n) => only.includes(n))) {
    const out = join(dir, `${name}.json`);
    const t0 = Date.now();
    process.stderr.write(`\n== ${name}${quick ? " (quick)" : ""}\n`);
    const child = spawnSync("npx", ["tsx", "bench/main.ts", name, ...(quick ? ["--quick"] : []), "--out", out], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    if (child.status !== 0) {
      failures.push(`${name} failed (exit ${child.status}); see its output above`);
      continue;
    }
    const result = JSON.parse(readFileSync(out, "utf8"));
    result.seconds = (Date.now() - t0) / 1000;
    results.push(result);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Table rows in benchmark-number order, whatever order they ran in.
results.sort((a, b) => (a.rows[0]?.benchmark ?? "").localeCompare(b.rows[0]?.benchmark ?? ""));
const lines = [];
lines.push(
  `Measured ${new Date().toISOString().slice(0, 16)}Z${quick ? " with --quick" : ""} on ${before.nproc} × ${before.cpu}, ${before.memory}, Node ${before.node}; load average at start ${before.load}, at end ${machine().load}; total ${Math.round((Date.now() - started) / 1000)} s.`,
);
lines.push("");
lines.push("| Benchmark | Measure | Ours | Compared with | Ratio | Budget | Result |");
lines.push("|---|---|---|---|---|---|---|");
for (const r of results) {
  for (const row of r.rows) {
    lines.push(
      `| ${[row.benchmark, row.measure, row.ours, row.baseline, row.ratio, row.budget, row.verdict].map(cell).join(" | ")} |`,
    );
  }
}
lines.push("");
for (const r of results) for (const note of r.notes) lines.push(`- ${note}`);
for (const r of results) lines.push(`- ${r.name} took ${r.seconds.toFixed(0)} s.`);
for (const f of failures) lines.push(`- **${f}**`);
const table = lines.join("\n");
process.stdout.write(`\n${table}\n`);

if (args.includes("--update-readme")) {
  const readme = join(root, "bench", "README.md");
  const text = readFileSync(readme, "utf8");
  const begin = "<!-- bench:results:begin -->";
  const end = "<!-- bench:results:end -->";
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    process.stderr.write(`${readme} has no ${begin} … ${end} section\n`);
    process.exit(2);
  }
  writeFileSync(readme, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
  process.stderr.write(`updated ${readme}\n`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
