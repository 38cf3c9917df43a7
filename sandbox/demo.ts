/**
 * `npx elevate demo`: the whole Elevate loop, locally, against the sandbox.
 *
 * Every step states what it claims and then checks it against the sandbox's
 * own state (IAM policies, STS decisions, the GitHub stand-in, git). A step
 * that cannot prove its claim fails the demo: it never prints a success it did
 * not check. Exit 0 only when every step passed.
 */
import { main as cliMain } from "../src/cli/main.js";
import { grantPolicyText, parseCutoffPolicy } from "../src/domain/grant-policy.js";
import { scheduleEvent } from "./harness/events.js";
import type { ActionRun } from "./harness/run-action.js";
import { ElevateWorld, requestYaml } from "./world.js";

// The SDK warns on Node < 22 at every start; Actions runs the bundle on node24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
const green = paint("32");
const red = paint("31");
const dim = paint("2");
const bold = paint("1");

class StepFailed extends Error {}

/** Why the demo's config is not the shipped .github/elevate.yml word for word. */
export const DEMO_CONFIG_NOTE = [
  "The demo's .github/elevate.yml is the shipped example with the sandbox stack's ARNs and users, except that",
  "role ec2-admin needs 1 approval and no ticket, and every user may request it (the example asks for 2",
  "approvals, a ticket, and only alice): one approval by a code owner then completes the loop.",
].join("\n");

/** Where an adopter goes from here. */
export const NEXT_STEPS = [
  "Next: Elevate in your own repository. Follow docs/adoption.md: deploy infra/template.yaml, then",
  "  npx elevate init --repo OWNER/NAME --account ID --region REGION --action OWNER/elevate/action@SHA --stack-outputs stack.json",
  "  npx elevate doctor",
].join("\n");

function claim(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepFailed(message);
}

function actionProblem(run: ActionRun): string {
  const errors = run.annotations.filter((a) => a.level === "error").map((a) => a.message);
  return errors.join("; ") || run.stderr.trim().split("\n").slice(-3).join(" ") || `exit ${run.exitCode}`;
}

function indent(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => `      ${dim(line)}`)
    .join("\n");
}

async function captureCli(argv: string[], cwd: string, now: Date): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await cliMain({
    argv,
    cwd,
    now: () => now,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

export async function runDemo(): Promise<number> {
  const started = Date.now();
  const steps: { title: string; run: () => Promise<string | undefined> }[] = [];
  const step = (title: string, run: () => Promise<string | undefined>) => steps.push({ title, run });

  // Start the world at the current minute so the narrative shows real-looking times.
  const start = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  let world: ElevateWorld | undefined;
  const requestId = "resize-web-asg";
  const file = `requests/ec2-admin/${requestId}.yaml`;
  let pr: ReturnType<ElevateWorld["scenario"]["openRequestPr"]> | undefined;
  let merged: ReturnType<NonNullable<typeof pr>["merge"]> | undefined;
  let notAfter: Date | undefined;

  step("Start the sandbox: AWS (IAM, STS, SSM, SNS), GitHub and its OIDC issuer", async () => {
    world = await ElevateWorld.start({ start, clockMode: "frozen" });
    claim(world.outputs.GrantRoleArn && world.outputs.ExampleRoleArn, "the stack did not deploy");
    claim(world.aws.state.role("elevate-grant"), "the grant role is missing from IAM");
    return [
      `infra/template.yaml deployed: ${world.outputs.GrantRoleArn}`,
      `runbooks: ${world.outputs.GrantDocumentName}, ${world.outputs.RevokeDocumentName}`,
      `privileged role: ${world.roleArn}`,
      `IAM users: ${Object.values(world.users).join(", ")}; repository ${world.repository} with .github/elevate.yml and CODEOWNERS`,
    ].join("\n");
  });

  step(`alice opens a pull request adding ${file}`, async () => {
    const w = world!;
    pr = w.scenario.openRequestPr({
      author: "alice",
      title: "Elevate: ec2-admin for alice",
      files: {
        [file]: requestYaml({ requester: "alice", duration: "1h", reason: "Resize the web ASG during INC-1234" }),
      },
    });
    claim(w.github.pullRequest(w.repository, pr.number).files.length === 1, "the PR does not carry exactly one file");
    return requestYaml({ requester: "alice", duration: "1h", reason: "Resize the web ASG during INC-1234" });
  });

  step("The check validates the request and posts the plan on the PR (no AWS access)", async () => {
    const w = world!;
    const awsCallsBefore = w.aws.callLog.length;
    const run = await w.runAction("check", pr!.pullRequestEvent());
    claim(run.exitCode === 0, `the check failed: ${actionProblem(run)}`);
    claim(JSON.parse(run.outputs["request-ids"] ?? "[]").includes(requestId), "the check did not plan the request");
    const comments = w.github.comments(w.repository, pr!.number);
    claim(comments.length === 1 && comments[0]!.body.includes(requestId), "no plan comment on the PR");
    claim(w.aws.callLog.length === awsCallsBefore, "the check called AWS");
    const table = comments[0]!.body.split("\n").filter((l) => l.startsWith("|"));
    return table.join("\n");
  });

  step("bob, a code owner of requests/ec2-admin/, approves the head commit", async () => {
    const review = pr!.approve("bob");
    claim(review.state === "APPROVED", "the review is not an approval");
    return `review ${review.id} on ${review.commitId.slice(0, 12)}`;
  });

  step("Merge, then the grant runs: re-verify, OIDC -> grant role -> Elevate-Grant runbook", async () => {
    const w = world!;
    merged = pr!.merge("merge");
    const before = w.aws.callLog.length;
    const run = await w.runAction("grant", merged.pushEvent);
    claim(run.exitCode === 0, `the grant failed: ${actionProblem(run)}`);
    claim(JSON.parse(run.outputs.granted ?? "[]").includes(requestId), "the grant output does not list the request");
    const policies = w.aws.state.userPolicies("alice.smith");
    const attached = policies[`elevate-${requestId}`];
    claim(attached, "no grant policy on alice.smith");
    const mergedAt = new Date(merged.pullRequest.mergedAt!);
    const notBefore = new Date(Math.floor(mergedAt.getTime() / 1000) * 1000);
    notAfter = new Date(notBefore.getTime() + 3_600_000);
    const expected = grantPolicyText({ requestId, iamUser: "alice.smith", roleArn: w.roleArn, notBefore, notAfter });
    claim(JSON.stringify(attached) === expected, "the attached policy is not the planned one");
    const calls = w.aws.callLog.slice(before).map((c) => c.action);
    claim(
      calls.includes("AssumeRoleWithWebIdentity") && calls.includes("StartAutomationExecution"),
      "no OIDC/SSM calls",
    );
    claim(w.evidenceNote(merged.after)?.includes(requestId), "no evidence note on the merge commit");
    return [
      `policy elevate-${requestId} on alice.smith: sts:AssumeRole on the role, ${notBefore.toISOString()} .. ${notAfter.toISOString()}, session name alice.smith`,
      `execution ${JSON.parse(run.outputs["execution-ids"] ?? "[]")[0]}; evidence note on ${merged.after.slice(0, 12)}`,
    ].join("\n");
  });

  step("alice can now assume the role (session name = her IAM user name)", async () => {
    const w = world!;
    const result = await w.tryAssume("alice.smith");
    claim(result.ok, `alice was refused: ${result.ok ? "" : result.error}`);
    return `AssumeRole ok: ${result.credentials.accessKeyId.slice(0, 8)}…`;
  });

  step("…but bob cannot, and alice cannot with another session name", async () => {
    const w = world!;
    const bob = await w.tryAssume("bob");
    claim(!bob.ok, "bob was allowed to assume the role");
    const other = await w.tryAssume("alice.smith", w.roleArn, "not-alice");
    claim(!other.ok, "alice assumed the role with a foreign session name");
    return `bob: ${bob.error.split(":")[0]}; alice as not-alice: ${other.error.split(":")[0]}`;
  });

  step("Time passes beyond the window: the policy expires by itself", async () => {
    const w = world!;
    w.aws.clock.set(new Date(notAfter!.getTime() + 60_000));
    const result = await w.tryAssume("alice.smith");
    claim(!result.ok, "alice could still assume the role after notAfter");
    claim(w.grantPolicies("alice.smith").length === 1, "the policy vanished before any revoke ran");
    return `clock at ${w.now().toISOString()}; AssumeRole refused even though the policy is still attached`;
  });

  step("The scheduled revoke deletes the expired grant and cuts off older sessions", async () => {
    const w = world!;
    const run = await w.runAction(
      "revoke",
      scheduleEvent({ repository: w.scenario.webhookRepository(), cron: "17 * * * *", sha: w.scenario.mainSha() }),
    );
    claim(run.exitCode === 0, `the revoke failed: ${actionProblem(run)}`);
    claim(JSON.parse(run.outputs.revoked ?? "[]").includes(requestId), "the revoke output does not list the request");
    claim(w.grantPolicies("alice.smith").length === 0, "the grant policy is still on alice.smith");
    const rolePolicies = w.aws.state.rolePolicies("EC2_FullAccess_Role");
    const cutoff = rolePolicies["elevate-cutoff-alice.smith"];
    claim(cutoff, "no session cut-off policy on the role");
    const parsed = parseCutoffPolicy(JSON.stringify(cutoff));
    claim(parsed?.iamUser === "alice.smith", "the cut-off policy does not match alice's sessions");
    claim(parsed.revokedAt.getTime() > notAfter!.getTime(), "the cut-off time is not after the window");
    return `policy gone from IAM; elevate-cutoff-alice.smith on the role denies alice's role sessions issued before ${parsed.revokedAt.toISOString()}`;
  });

  step("The audit log is rebuilt from git history and the evidence notes", async () => {
    const w = world!;
    const workspace = w.scenario.checkoutWorkspace({ sha: w.scenario.mainSha(), ref: "refs/heads/main" });
    const result = await captureCli(["audit", "--format", "md"], workspace, w.now());
    claim(result.code === 0, `elevate audit exited ${result.code}: ${result.err.trim()}`);
    claim(result.out.includes(requestId), "the audit does not list the request");
    claim(/granted/i.test(result.out), "the audit does not show the grant");
    return result.out;
  });

  let failed = 0;
  for (const [index, s] of steps.entries()) {
    const t0 = Date.now();
    process.stdout.write(`${bold(`[${index + 1}/${steps.length}]`)} ${s.title} … `);
    try {
      const detail = await s.run();
      process.stdout.write(`${green("ok")} ${dim(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`)}\n`);
      if (detail) process.stdout.write(`${indent(detail)}\n`);
    } catch (error) {
      failed++;
      process.stdout.write(`${red("FAILED")}\n      ${(error as Error).message}\n`);
      break;
    }
  }
  await world?.close();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failed) {
    process.stdout.write(`\n${red("The demo stopped at a step that did not prove its claim.")} (${seconds} s)\n`);
    return 1;
  }
  process.stdout.write(`\n${green(`All ${steps.length} steps proved what they claim`)} in ${seconds} s.\n`);
  process.stdout.write(`\n${DEMO_CONFIG_NOTE}\n\n${NEXT_STEPS}\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDemo().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`elevate demo: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
