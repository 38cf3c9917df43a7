/**
 * Grant mode end to end through the action bundle: an approved request PR is
 * merged (merge, squash or rebase), the grant workflow runs on the push, and
 * the requester really can switch into the role, only as themselves, only
 * inside the window (docs/threat-model.md invariants 2 and 4, the "Grant" and "Use" steps).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MergeOutcome } from "../../sandbox/git/scenario.js";
import type { MergeMethod } from "../../sandbox/github/state.js";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { loadConfig } from "../../src/domain/config.js";
import { grantPolicyName, grantPolicyText } from "../../src/domain/grant-policy.js";
import { buildGrantPlan, type GrantPlan } from "../../src/domain/plan.js";
import { validateRequest } from "../../src/domain/request.js";
import {
  E2E_TIMEOUT_MS,
  errors,
  evidenceOn,
  expectRefused,
  grantExecutions,
  outputList,
  requestFile,
  startWorld,
  WORLD_START,
} from "./grant-support.js";

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld();
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(WORLD_START.getTime() + offsetMs);

/** The plan the merge must produce, computed independently from the domain code. */
function expectedPlan(text: string, file: string, author: string, mergedAt: Date): GrantPlan {
  const loaded = loadConfig(world.configText, ".github/elevate.yml");
  if (!loaded.config) throw new Error("world config invalid");
  const validated = validateRequest({ text, path: file, config: loaded.config, author, now: mergedAt });
  if (!validated.request) throw new Error(JSON.stringify(validated.errors));
  const planned = buildGrantPlan(validated.request, loaded.config, mergedAt);
  if (!planned.ok) throw new Error(planned.message);
  return planned.plan;
}

/** The exact bytes IAM stores for a user's inline policy. */
function storedPolicy(iamUser: string, requestId: string): string | undefined {
  return world.aws.state.user(iamUser)?.inlinePolicies.get(grantPolicyName(requestId));
}

describe("an approved request merged with a merge commit", { timeout: E2E_TIMEOUT_MS }, () => {
  const id = "grant-merge-1";
  const file = requestFile(id);
  const text = requestYaml({ requester: "alice", duration: "1h" });
  let merged: MergeOutcome;
  let prNumber: number;
  let reviewId: number;
  let headSha: string;
  let executionId: string;
  let callsBefore: number;
  let publishedBefore: number;

  beforeAll(async () => {
    const pr = world.scenario.openRequestPr({ author: "alice", files: { [file]: text } });
    prNumber = pr.number;
    headSha = pr.headSha;
    reviewId = pr.approve("bob").id;
    merged = pr.merge("merge");
    callsBefore = world.aws.callLog.length;
    publishedBefore = world.aws.state.published.length;
  });

  it("grants: exit 0, outputs name the request and its one execution", async () => {
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(errors(run)).toEqual([]);
    expect(outputList(run, "request-ids")).toEqual([id]);
    expect(outputList(run, "granted")).toEqual([id]);
    expect(outputList(run, "refused")).toEqual([]);
    const executions = grantExecutions(world, id);
    expect(executions).toHaveLength(1);
    executionId = executions[0]!.id;
    expect(executions[0]!.status).toBe("Success");
    expect(outputList(run, "execution-ids")).toEqual([executionId]);
    // One OIDC exchange for the grant role, one runbook start; nothing else privileged.
    const calls = world.aws.callLog.slice(callsBefore);
    const by = (action: string) => calls.filter((c) => c.action === action);
    expect(by("AssumeRoleWithWebIdentity").map((c) => c.outcome)).toEqual(["ok"]);
    expect(by("AssumeRoleWithWebIdentity")[0]!.params.RoleArn).toBe(world.outputs.GrantRoleArn);
    expect(by("StartAutomationExecution")).toHaveLength(1);
    expect(by("StartAutomationExecution")[0]!.principal).toContain("elevate-grant");
  });

  it("attaches exactly grantPolicyText of the plan (invariant 2)", () => {
    const plan = expectedPlan(text, file, "alice", WORLD_START);
    expect(plan.notBefore).toBe("2026-11-30T08:00:00Z");
    expect(plan.notAfter).toBe("2026-11-30T09:00:00Z");
    const expected = grantPolicyText({
      requestId: plan.requestId,
      iamUser: plan.iamUser,
      roleArn: plan.roleArn,
      notBefore: new Date(plan.notBefore),
      notAfter: new Date(plan.notAfter),
    });
    expect(storedPolicy("alice.smith", id)).toBe(expected);
    expect(world.grantPolicies("alice.smith")).toEqual([grantPolicyName(id)]);
  });

  it("lets the requester assume the role as themselves, only inside the window", async () => {
    try {
      expect(await world.tryAssume("alice.smith")).toMatchObject({ ok: true });
      // Another session name is refused: the console and the CLI snippet use the IAM user name.
      const otherName = await world.tryAssume("alice.smith", world.roleArn, "admin");
      expect(otherName).toMatchObject({ ok: false });
      expect(otherName.ok ? "" : otherName.error).toMatch(/AccessDenied/);
      // Someone else holds no grant.
      expect(await world.tryAssume("bob")).toMatchObject({ ok: false });
      // The window's bounds are inclusive, and outside them AWS itself refuses. This probes
      // the policy's own window: the grant's expiry schedule must not fire while the clock
      // visits notAfter and comes back (it would end the grant for real; expire-grant-bundle
      // tests that).
      world.aws.knobs.dropAllInvocations = true;
      world.aws.clock.set(at(-1000));
      expect(await world.tryAssume("alice.smith")).toMatchObject({ ok: false });
      world.aws.clock.set(at(HOUR));
      expect(await world.tryAssume("alice.smith")).toMatchObject({ ok: true });
      world.aws.clock.set(at(HOUR + 1000));
      expect(await world.tryAssume("alice.smith")).toMatchObject({ ok: false });
    } finally {
      world.aws.clock.set(WORLD_START);
      world.aws.knobs.dropAllInvocations = false;
    }
  });

  it("reports on the PR: window, switch-role link, CLI profile", () => {
    const comments = world.github.comments(world.repository, prNumber);
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body).toContain(`**${id}**: granted`);
    expect(body).toContain("from **2026-11-30T08:00:00Z** until **2026-11-30T09:00:00Z** (1h)");
    const account = world.aws.defaultAccountId;
    expect(body).toContain(
      `https://signin.aws.amazon.com/switchrole?account=${account}&roleName=elevated%2FEC2_FullAccess_Role&displayName=elevate-${id}`,
    );
    expect(body).toContain(
      [
        `[profile elevate-${id}]`,
        `role_arn = ${world.roleArn}`,
        "source_profile = default",
        "role_session_name = alice.smith",
        "region = ap-northeast-1",
      ].join("\n"),
    );
    expect(body).toContain(executionId);
  });

  it("records the evidence as a git note on the merge commit in origin", () => {
    const evidence = evidenceOn(world, merged.after);
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      event: "granted",
      requestId: id,
      file,
      requester: "alice",
      iamUser: "alice.smith",
      roleArn: world.roleArn,
      mergeSha: merged.after,
      pr: { number: prNumber, author: "alice", headSha },
      approvals: [{ login: "bob", reviewId, commitId: headSha }],
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T09:00:00Z" },
      execution: { id: executionId, status: "Success" },
    });
  });

  it("publishes the grant to the notification topic", () => {
    const topic = world.outputs.NotifyTopicArn as string;
    expect(world.aws.state.topics.has(topic)).toBe(true);
    const messages = world.aws.state.published.slice(publishedBefore).filter((m) => m.topicArn === topic);
    expect(messages).toHaveLength(1);
    // The documented notification schema (docs/notifications.md).
    expect(messages[0]!.subject).toMatch(/^Elevate: granted alice ec2-admin until /);
    expect(JSON.parse(messages[0]!.message)).toMatchObject({
      schema: "elevate.notification/v1",
      event: "granted",
      requestId: id,
      iamUser: "alice.smith",
      executionId,
      breakGlass: false,
    });
  });

  it("re-running the same push later is a no-op: same execution, same window (invariant 4)", async () => {
    const putsBefore = world.aws.calls("PutUserPolicy").length;
    world.aws.clock.set(at(20 * 60_000));
    try {
      const rerun = await world.runAction("grant", merged.pushEvent);
      expect(rerun.exitCode, rerun.stdout).toBe(0);
      expect(outputList(rerun, "granted")).toEqual([id]);
      expect(outputList(rerun, "execution-ids")).toEqual([executionId]);
    } finally {
      world.aws.clock.set(WORLD_START);
    }
    expect(grantExecutions(world, id)).toHaveLength(1);
    expect(world.aws.calls("PutUserPolicy").length).toBe(putsBefore);
    expect(storedPolicy("alice.smith", id)).toContain('"aws:CurrentTime":"2026-11-30T09:00:00Z"');
    // The re-run reports the grant that exists, with the original window.
    const last = world.github.comments(world.repository, prNumber).at(-1)!.body;
    expect(last).toContain("until **2026-11-30T09:00:00Z**");
  });
});

describe.each<[MergeMethod, string, string, string]>([
  ["squash", "grant-squash-1", "carol", "bob"],
  ["rebase", "grant-rebase-1", "dave", "carol"],
])("an approved request merged with %s", { timeout: E2E_TIMEOUT_MS }, (method, id, requester, approver) => {
  it("grants to the requester's IAM user", async () => {
    const file = requestFile(id);
    const pr = world.scenario.openRequestPr({
      author: requester,
      files: { [file]: requestYaml({ requester, duration: "30m", reason: "First draft of the reason" }) },
    });
    // A second commit on the branch: rebase lands two commits, the grant runs on the last.
    pr.push({ [file]: requestYaml({ requester, duration: "45m" }) });
    pr.approve(approver);
    const merged = pr.merge(method);
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(outputList(run, "granted")).toEqual([id]);
    const iamUser = world.users[requester]!;
    expect(world.grantPolicies(iamUser)).toContain(grantPolicyName(id));
    expect(storedPolicy(iamUser, id)).toContain('"aws:CurrentTime":"2026-11-30T08:45:00Z"');
    expect(await world.tryAssume(iamUser)).toMatchObject({ ok: true });
    expect(evidenceOn(world, merged.after).map((e) => [e.requestId, e.event, e.mergeSha])).toEqual([
      [id, "granted", merged.after],
    ]);
  });
});

describe("races and failures around a grant", { timeout: E2E_TIMEOUT_MS }, () => {
  it("two runs racing on the same push grant once (invariant 4)", async () => {
    const id = "grant-race-1";
    const pr = world.scenario.openRequestPr({
      author: "bob",
      files: { [requestFile(id)]: requestYaml({ requester: "bob" }) },
    });
    pr.approve("carol");
    const merged = pr.merge("merge");
    const [a, b] = await Promise.all([
      world.runAction("grant", merged.pushEvent),
      world.runAction("grant", merged.pushEvent),
    ]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const executions = grantExecutions(world, id);
    expect(executions).toHaveLength(1);
    expect(outputList(a, "execution-ids")).toEqual([executions[0]!.id]);
    expect(outputList(b, "execution-ids")).toEqual([executions[0]!.id]);
    expect(world.grantPolicies("bob")).toEqual([grantPolicyName(id)]);
    expect(storedPolicy("bob", id)).toContain('"aws:CurrentTime":"2026-11-30T09:00:00Z"');
  });

  it("still grants when AWS throttles 30% of calls (the SDK's adaptive retry)", async () => {
    const id = "grant-throttled-1";
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: { [requestFile(id)]: requestYaml({ requester: "alice" }) },
    });
    pr.approve("carol");
    const merged = pr.merge("squash");
    const throttledBefore = world.aws.callLog.filter((c) => /Throttl/.test(c.outcome)).length;
    world.aws.knobs.throttleRate = 0.3;
    let run: Awaited<ReturnType<ElevateWorld["runAction"]>>;
    try {
      run = await world.runAction("grant", merged.pushEvent);
    } finally {
      world.aws.knobs.throttleRate = 0;
    }
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(outputList(run, "granted")).toEqual([id]);
    expect(world.grantPolicies("alice.smith")).toContain(grantPolicyName(id));
    expect(grantExecutions(world, id)).toHaveLength(1);
    // The knob really bit: some calls of this run were throttled and retried.
    expect(world.aws.callLog.filter((c) => /Throttl/.test(c.outcome)).length).toBeGreaterThan(throttledBefore);
  });

  it("a PR comment that cannot be posted fails the run loudly, and the grant STANDS", async () => {
    const id = "grant-comment-fails-1";
    const pr = world.scenario.openRequestPr({
      author: "carol",
      files: { [requestFile(id)]: requestYaml({ requester: "carol" }) },
    });
    pr.approve("bob");
    const merged = pr.merge("merge");
    world.github.failNext("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", 500);
    const run = await world.runAction("grant", merged.pushEvent);
    expect(run.exitCode).not.toBe(0);
    expect(
      errors(run)
        .map((a) => a.message)
        .join("\n"),
    ).toMatch(new RegExp(`could not be posted on PR #${pr.number}.*STAND`));
    expect(world.grantPolicies("carol")).toContain(grantPolicyName(id));
    expect(await world.tryAssume("carol")).toMatchObject({ ok: true });
    expect(run.summary).toContain(`**${id}**: granted`);
    expect(evidenceOn(world, merged.after).map((e) => e.event)).toEqual(["granted"]);
  });

  it("refuses a request whose window has already closed", async () => {
    const id = "grant-closed-1";
    const file = requestFile(id);
    const pr = world.scenario.openRequestPr({
      author: "dave",
      files: { [file]: requestYaml({ requester: "dave", duration: "1h", start: "2026-11-30T06:00:00Z" }) },
    });
    pr.approve("bob");
    const merged = pr.merge("merge");
    const run = await world.runAction("grant", merged.pushEvent);
    expectRefused(world, run, { requestId: id, iamUser: "dave", message: /window closed at 2026-11-30T07:00:00/ });
    // Located at the offending key: `start` is on line 5 of the file.
    expect(errors(run).find((a) => /window closed/.test(a.message))).toMatchObject({ file, line: 5 });
    expect(outputList(run, "refused")).toEqual([id]);
  });
});
