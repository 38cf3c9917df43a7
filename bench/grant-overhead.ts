/**
 * Benchmark 2, grant overhead: how long the grant action takes from process
 * start to StartAutomationExecution, and from the runbook's completion to the
 * action noticing it, against the sandbox with zero injected latency.
 *
 * Method:
 *   - One sandbox world (sandbox/world.ts: AWS stand-in with infra/template.yaml
 *     deployed, GitHub stand-in with its OIDC issuer, a real git repository).
 *     Each run opens a PR adding one request file, approves it (bob, a code
 *     owner), merges it with a merge commit, and runs the action bundle in grant
 *     mode on the push event through sandbox/harness/run-action.ts, as the runner
 *     would. The bundle is named in the notes.
 *   - Process start: Date.now() just before runAction, which then writes the
 *     event file and spawns node (so the measured time includes that ~ms of
 *     harness work: it can only overstate).
 *   - Runbook started: the sandbox call-log entry of StartAutomationExecution,
 *     stamped when the sandbox answered. Call-log times are on the world's
 *     clock, which follows real time at a fixed offset (it starts at 2026-11-30);
 *     the offset is read once per run and subtracted to get wall time.
 *   - Runbook completed: the engine's execution endTime (same clock).
 *     Noticed: the first GetAutomationExecution call for that execution logged
 *     at or after endTime, i.e. the first poll that could have seen the terminal
 *     status (the action then exits successfully, which the bench checks).
 *   - AWS calls before the runbook: call-log entries of this run up to and
 *     including StartAutomationExecution.
 *   - Median and max over `runs` runs, after one untimed run of each bundle:
 *     the world's first run also pays for the stand-ins' own first calls (their
 *     code compiling in the bench process: STS's token check, IAM policy
 *     evaluation, the runbook engine), which is not the action's time.
 *   - The "before" bundle, run interleaved with the measured one: the ncc
 *     bundle before the esbuild switch (bench/lib/builds.ts, BEFORE_REF), or,
 *     with ELEVATE_BENCH_GRANT_BASELINE_REF=<commit>, the action/dist committed
 *     at that commit (to compare a change against the main it started from).
 */
import { existsSync } from "node:fs";
import { runAction } from "../sandbox/harness/run-action.js";
import { ElevateWorld, requestYaml, WORKFLOW_OF } from "../sandbox/world.js";
import { beforeBundle, committedActionAt, shippedBuild } from "./lib/builds.js";
import { type BenchResult, type BenchRow, type CommonOptions, fmtMs, max, median, ratioText } from "./lib/result.js";

export interface GrantOverheadOptions extends CommonOptions {
  runs: number;
  /** The action bundle to run; by default the shipped build (bench/lib/builds.ts). */
  bundle?: ActionBundle;
  /** Also run the bundle before the switch to esbuild, interleaved (default: unless `bundle` is given). */
  compareBefore?: boolean;
}

export interface ActionBundle {
  path: string;
  description: string;
}

export const GRANT_FULL = { runs: 20 };
export const GRANT_QUICK = { runs: 5 };

interface RunTimes {
  startMs: number;
  noticeMs: number;
  callsBeforeStart: number;
  totalMs: number;
}

async function oneRun(world: ElevateWorld, index: number, bundlePath: string): Promise<RunTimes> {
  const id = `bench-grant-${String(index).padStart(3, "0")}`;
  const pr = world.scenario.openRequestPr({
    author: "alice",
    files: { [`requests/ec2-admin/${id}.yaml`]: requestYaml({ requester: "alice", duration: "1h" }) },
  });
  pr.approve("bob");
  const merged = pr.merge("merge");
  const event = merged.pushEvent;
  const workspace = world.scenario.checkoutWorkspace(event);
  const oidc = world.github.registerOidcRun(
    {
      repository: world.repository,
      eventName: event.eventName,
      ref: event.ref,
      sha: event.sha,
      workflowPath: WORKFLOW_OF.grant,
      actor: "github-actions[bot]",
      runId: 5000 + index,
    },
    { now: world.now() },
  );
  const logFrom = world.aws.callLog.length;
  // The world's clock follows real time at a fixed offset; read it once per run.
  const clockOffsetMs = world.aws.clock.now().getTime() - Date.now();
  const spawnedAt = Date.now();
  const run = await runAction({
    bundlePath,
    inputs: { mode: "grant", "github-token": world.githubToken() },
    event,
    repository: world.repository,
    workspace,
    apiUrl: world.github.url,
    serverUrl: world.github.webUrl,
    oidc,
    workflowPath: WORKFLOW_OF.grant,
    runId: 5000 + index,
    env: {
      ...world.aws.env,
      ELEVATE_NOW: world.now().toISOString(),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    timeoutMs: 60_000,
  });
  const totalMs = Date.now() - spawnedAt;
  if (run.exitCode !== 0) {
    throw new Error(
      `grant run ${index} exited ${run.exitCode}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`,
    );
  }
  const entries = world.aws.callLog.slice(logFrom);
  const startIndex = entries.findIndex((e) => e.action === "StartAutomationExecution" && e.outcome === "ok");
  const start = entries[startIndex];
  if (!start) throw new Error(`grant run ${index}: no StartAutomationExecution in the call log`);
  const executionId = [...world.aws.state.executions.values()].find(
    (e) => e.startTime.getTime() >= start.time.getTime() - 1000 && e.parameters.RequestId?.[0] === id,
  );
  if (!executionId?.endTime) throw new Error(`grant run ${index}: the execution for ${id} has not ended`);
  const endTime = executionId.endTime.getTime();
  const notice = entries.find(
    (e) =>
      e.action === "GetAutomationExecution" &&
      e.params.AutomationExecutionId === executionId.id &&
      e.time.getTime() >= endTime,
  );
  if (!notice) throw new Error(`grant run ${index}: no GetAutomationExecution after the runbook ended`);
  // Start the next run from a user without grants: IAM's 2,048-character inline
  // budget holds only a handful of grant policies per user (untimed, store only).
  world.aws.state.iam.deleteUserPolicy(world.aws.defaultAccountId, world.users.alice as string, `elevate-${id}`);
  return {
    startMs: start.time.getTime() - clockOffsetMs - spawnedAt,
    noticeMs: notice.time.getTime() - endTime,
    callsBeforeStart: startIndex + 1,
    totalMs,
  };
}

export async function runGrantOverheadBench(options: GrantOverheadOptions): Promise<BenchResult> {
  const bundle =
    options.bundle ??
    (() => {
      const build = shippedBuild();
      return { path: build.action, description: build.description };
    })();
  if (!existsSync(bundle.path)) throw new Error(`no action bundle at ${bundle.path}`);
  const baselineRef = process.env.ELEVATE_BENCH_GRANT_BASELINE_REF;
  const compare = options.compareBefore ?? !options.bundle;
  const before = !compare ? undefined : baselineRef ? committedActionAt(baselineRef) : beforeBundle();
  const beforeLabel = baselineRef ? `against ${before?.description}` : "before the esbuild switch";
  options.log(`grant: bundle = ${bundle.description}${before ? `; before = ${before.description}` : ""}`);
  const world = await ElevateWorld.start({ bundlePath: bundle.path, clockMode: "following" });
  const times: RunTimes[] = [];
  const beforeTimes: RunTimes[] = [];
  try {
    world.aws.knobs.reset(); // zero latency, no throttling
    // Untimed: warms the stand-ins (see the method above); run numbers past the timed ones.
    await oneRun(world, 2 * options.runs, bundle.path);
    if (before) await oneRun(world, 2 * options.runs + 1, before.path);
    for (let i = 0; i < options.runs; i++) {
      // Interleaved: after, then before, so load from other processes falls on both alike.
      const t = await oneRun(world, 2 * i, bundle.path);
      times.push(t);
      options.log(
        `grant: run ${i + 1}/${options.runs}: start ${fmtMs(t.startMs)}, notice ${fmtMs(t.noticeMs)}, ${t.callsBeforeStart} calls, total ${fmtMs(t.totalMs)}`,
      );
      if (before) {
        const b = await oneRun(world, 2 * i + 1, before.path);
        beforeTimes.push(b);
        options.log(`grant: before ${i + 1}/${options.runs}: start ${fmtMs(b.startMs)}, total ${fmtMs(b.totalMs)}`);
      }
    }
  } finally {
    await world.close();
  }
  const start = times.map((t) => t.startMs);
  const notice = times.map((t) => t.noticeMs);
  const calls = times.map((t) => t.callsBeforeStart);
  const total = times.map((t) => t.totalMs);
  const benchmark = "2 Grant overhead";
  const rows: BenchRow[] = [
    {
      benchmark,
      measure: `process start → StartAutomationExecution (${options.runs} runs)`,
      ours: `median ${fmtMs(median(start))}`,
      baseline: `max ${fmtMs(max(start))}`,
      ratio: "",
      budget: "< 300 ms",
      verdict: max(start) < 300 ? "ok" : "MISSED",
    },
    ...(before
      ? [
          {
            benchmark,
            measure: `process start → StartAutomationExecution, ${beforeLabel} (${options.runs} runs, interleaved)`,
            ours: `median ${fmtMs(median(start))}`,
            baseline: `before: median ${fmtMs(median(beforeTimes.map((t) => t.startMs)))}, max ${fmtMs(max(beforeTimes.map((t) => t.startMs)))}`,
            ratio: ratioText("after ÷ before", median(start), median(beforeTimes.map((t) => t.startMs))),
            budget: "",
            verdict: "info" as const,
          },
        ]
      : []),
    {
      benchmark,
      measure: `runbook completion → action notices (${options.runs} runs)`,
      ours: `median ${fmtMs(median(notice))}`,
      baseline: `max ${fmtMs(max(notice))}`,
      ratio: "",
      budget: "< 1 s",
      verdict: max(notice) < 1000 ? "ok" : "MISSED",
    },
    {
      benchmark,
      measure: "AWS calls up to and including StartAutomationExecution",
      ours: `max ${max(calls)}`,
      baseline: `min ${Math.min(...calls)}`,
      ratio: "",
      budget: "≤ 3",
      verdict: max(calls) <= 3 ? "ok" : "MISSED",
    },
    {
      benchmark,
      measure: "whole grant run, spawn → exit (for context)",
      ours: `median ${fmtMs(median(total))}`,
      baseline: `max ${fmtMs(max(total))}`,
      ratio: "",
      budget: "",
      verdict: "info",
    },
  ];
  return {
    name: "grant-overhead",
    rows,
    notes: [
      `Grant overhead: bundle = ${bundle.description}${before ? `; before = ${before.description} (the grant flow of that commit, too)` : ""}. sandbox/world.ts with zero injected latency; each run is a fresh merged, approved PR, after one untimed run of each bundle (it warms the stand-ins); start = Date.now() before the harness spawns node → the sandbox's StartAutomationExecution log entry (world clock offset removed); notice = engine endTime → first GetAutomationExecution of that execution logged at or after it. The budget is checked on the max of the runs.`,
    ],
  };
}
