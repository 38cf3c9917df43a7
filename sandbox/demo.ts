/**
 * `npx elevate demo`: the whole Elevate loop, locally, against the sandbox.
 *
 * Every step states what it claims and then checks it against the sandbox's
 * own state (IAM policies, STS decisions, the GitHub stand-in, git). A step
 * that cannot prove its claim fails the demo: it never prints a success it did
 * not check. Exit 0 only when every step passed.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { parseDocument } from "yaml";
import { main as cliMain } from "../src/cli/main.js";
import { grantPolicyText, parseCutoffPolicy } from "../src/domain/grant-policy.js";
import type { AutomationExecutionRecord, PermissionSet, PortalSignIn } from "./aws/index.js";
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
  "approvals, a ticket, and only alice): one approval by a code owner then completes the loop. It also",
  "holds aws.identityCenter, role prod-admin (the sandbox Identity Center's permission set ProdAdmin in",
  "member account 210987654321) and alice's and bob's Identity Center user names.",
].join("\n");

/** The hub (holds the stack and the Identity Center instance) and the member account of the second part. */
const HUB_ACCOUNT = "123456789012";
const MEMBER_ACCOUNT = "210987654321";
const UNFINISHED = ["Pending", "InProgress", "Waiting", "Cancelling"];

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

  step(
    "Start the sandbox: AWS (IAM, STS, SSM, SNS, Scheduler, Identity Center), GitHub and its OIDC issuer",
    async () => {
      world = await ElevateWorld.start({
        start,
        clockMode: "frozen",
        accountIds: [HUB_ACCOUNT, MEMBER_ACCOUNT],
        identityCenter: { accountId: MEMBER_ACCOUNT, users: { alice: "alice@acme.com", bob: "bob@acme.com" } },
      });
      claim(world.outputs.GrantRoleArn && world.outputs.ExampleRoleArn, "the stack did not deploy");
      claim(world.aws.state.role("elevate-grant"), "the grant role is missing from IAM");
      claim(world.aws.state.identityCenter.accountIds().includes(MEMBER_ACCOUNT), "no member account in the sandbox");
      return [
        `infra/template.yaml deployed: ${world.outputs.GrantRoleArn}`,
        `runbooks: ${world.outputs.GrantDocumentName}, ${world.outputs.RevokeDocumentName}`,
        `privileged role: ${world.roleArn}`,
        `IAM users: ${Object.values(world.users).join(", ")}; repository ${world.repository} with .github/elevate.yml and CODEOWNERS`,
      ].join("\n");
    },
  );

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

  step("Time passes beyond the window: AssumeRole is refused at once", async () => {
    const w = world!;
    // Moving the clock past notAfter also fires the grant's end schedule (next step);
    // the refusal holds either way: the policy's own window has closed, or the policy is gone.
    w.aws.clock.set(new Date(notAfter!.getTime() + 60_000));
    const result = await w.tryAssume("alice.smith");
    claim(!result.ok, "alice could still assume the role after notAfter");
    return `clock at ${w.now().toISOString()}; AssumeRole refused: ${result.ok ? "" : result.error.split(":")[0]}`;
  });

  step(
    "At notAfter the grant's schedule runs Elevate-ExpireGrant (no GitHub run): policy deleted, older sessions cut off",
    async () => {
      const w = world!;
      const expiry = await scheduledEnd(w, "Elevate-ExpireGrant", requestId);
      claim(w.grantPolicies("alice.smith").length === 0, "the grant policy is still on alice.smith");
      const rolePolicies = w.aws.state.rolePolicies("EC2_FullAccess_Role");
      const cutoff = rolePolicies["elevate-cutoff-alice.smith"];
      claim(cutoff, "no session cut-off policy on the role");
      const parsed = parseCutoffPolicy(JSON.stringify(cutoff));
      claim(parsed?.iamUser === "alice.smith", "the cut-off policy does not match alice's sessions");
      claim(parsed.revokedAt.getTime() >= notAfter!.getTime(), "the cut-off time is before the window's end");
      // The scheduled revoke run, GitHub's safety net, finds nothing left to revoke.
      const run = await w.runAction(
        "revoke",
        scheduleEvent({ repository: w.scenario.webhookRepository(), cron: "17 * * * *", sha: w.scenario.mainSha() }),
      );
      claim(run.exitCode === 0, `the revoke failed: ${actionProblem(run)}`);
      claim(!JSON.parse(run.outputs.revoked ?? "[]").includes(requestId), "the revoke run revoked the request again");
      return [
        `Elevate-ExpireGrant started by ${expiry.executedBy.split("/").slice(-2).join("/")}`,
        `policy gone from IAM; elevate-cutoff-alice.smith on the role denies alice's role sessions issued before ${parsed.revokedAt.toISOString()}`,
        "the scheduled revoke run (GitHub's safety net) found nothing left to revoke",
      ].join("\n");
    },
  );

  step("The audit log is rebuilt from git history and the evidence notes", async () => {
    const w = world!;
    const workspace = w.scenario.checkoutWorkspace({ sha: w.scenario.mainSha(), ref: "refs/heads/main" });
    const result = await captureCli(["audit", "--format", "md"], workspace, w.now());
    claim(result.code === 0, `elevate audit exited ${result.code}: ${result.err.trim()}`);
    claim(result.out.includes(requestId), "the audit does not list the request");
    claim(/granted/i.test(result.out), "the audit does not show the grant");
    return result.out;
  });

  // Part two: the same loop for an IAM Identity Center permission set in a member account.
  const psRequestId = "rotate-prod-db-credentials";
  const psFile = `requests/prod-admin/${psRequestId}.yaml`;
  const psRequest = requestYaml({
    requester: "alice",
    role: "prod-admin",
    duration: "1h",
    reason: "Rotate the production database credentials (CHG-2048)",
  });
  const aliceIc = "alice@acme.com";
  let prodAdmin: PermissionSet | undefined;
  let psPr: ReturnType<ElevateWorld["scenario"]["openRequestPr"]> | undefined;
  let psNotAfter: Date | undefined;
  let session: PortalSignIn | undefined;

  step(
    `Identity Center: the catalog's prod-admin is permission set ProdAdmin in member account ${MEMBER_ACCOUNT}`,
    async () => {
      const w = world!;
      const ic = w.identityCenter;
      claim(ic, "the sandbox has no Identity Center set up");
      prodAdmin = ic.permissionSet;
      claim(ic.accountId === MEMBER_ACCOUNT, `the permission set is catalogued in ${ic.accountId}`);
      claim(ic.users.alice === aliceIc, "alice has no Identity Center user");
      const config = parseDocument(w.configText).toJS() as {
        aws: { identityCenter?: { instanceArn?: string } };
        users: Record<string, { identityCenterUser?: string }>;
        roles: Record<string, { permissionSet?: string; account?: string }>;
      };
      claim(config.aws.identityCenter?.instanceArn === ic.instanceArn, "aws.identityCenter does not name the instance");
      claim(config.users.alice?.identityCenterUser === aliceIc, "users.alice has no identityCenterUser");
      const role = config.roles[ic.roleKey];
      claim(
        role?.permissionSet === prodAdmin.arn && role.account === MEMBER_ACCOUNT,
        "no prod-admin permission-set role",
      );
      claim(
        w.aws.state.identityCenter.groups.get(ic.eligibleGroupId)?.displayName === "elevate-eligible",
        "no eligible group",
      );
      const configText = w.configText;
      const workspace = w.scenario.checkoutWorkspace({ sha: w.scenario.mainSha(), ref: "refs/heads/main" });
      const validated = await captureCli(["validate", "requests"], workspace, w.now());
      claim(
        validated.code === 0,
        `elevate validate refused the catalog: ${validated.err.trim() || validated.out.trim()}`,
      );
      const block = configText
        .split("\n")
        .filter((l) =>
          /identityCenter|instanceArn|identityStoreId|^ {2}alice|iamUser: alice|identityCenterUser: alice|prod-admin|permissionSet|account: "/.test(
            l,
          ),
        );
      return [
        `stack parameters: IdentityCenterInstanceArn, IdentityStoreId, IdentityCenterEligibleGroupId (group elevate-eligible), GrantablePermissionSets=ProdAdmin@${MEMBER_ACCOUNT}=2h`,
        ...block,
      ].join("\n");
    },
  );

  step(`alice opens a pull request adding ${psFile}`, async () => {
    const w = world!;
    psPr = w.scenario.openRequestPr({
      author: "alice",
      title: "Elevate: prod-admin for alice",
      files: { [psFile]: psRequest },
    });
    claim(w.github.pullRequest(w.repository, psPr.number).files.length === 1, "the PR does not carry exactly one file");
    return psRequest;
  });

  step("The check posts the plan: permission set, account, Identity Center user (no AWS access)", async () => {
    const w = world!;
    const awsCallsBefore = w.aws.callLog.length;
    const run = await w.runAction("check", psPr!.pullRequestEvent());
    claim(run.exitCode === 0, `the check failed: ${actionProblem(run)}`);
    claim(JSON.parse(run.outputs["request-ids"] ?? "[]").includes(psRequestId), "the check did not plan the request");
    const comments = w.github.comments(w.repository, psPr!.number);
    claim(comments.length === 1 && comments[0]!.body.includes(psRequestId), "no plan comment on the PR");
    const body = comments[0]!.body;
    claim(body.includes(prodAdmin!.arn) || body.includes("ProdAdmin"), "the plan does not name the permission set");
    claim(body.includes(MEMBER_ACCOUNT), "the plan does not name the account");
    claim(body.includes(aliceIc), "the plan does not name alice's Identity Center user");
    claim(w.aws.callLog.length === awsCallsBefore, "the check called AWS");
    return body
      .split("\n")
      .filter((l) => l.startsWith("|"))
      .join("\n");
  });

  step("carol, a code owner of requests/prod-admin/, approves the head commit", async () => {
    const review = psPr!.approve("carol");
    claim(review.state === "APPROVED", "the review is not an approval");
    return `review ${review.id} on ${review.commitId.slice(0, 12)}`;
  });

  step("Merge, then the grant runs Elevate-GrantPermissionSet: the account assignment exists", async () => {
    const w = world!;
    const ic = w.aws.state.identityCenter;
    const mergedPs = psPr!.merge("merge");
    const run = await w.runAction("grant", mergedPs.pushEvent);
    claim(run.exitCode === 0, `the grant failed: ${actionProblem(run)}`);
    claim(JSON.parse(run.outputs.granted ?? "[]").includes(psRequestId), "the grant output does not list the request");
    const execution = executionsOf(w, "Elevate-GrantPermissionSet", psRequestId)[0];
    claim(
      execution?.status === "Success",
      `Elevate-GrantPermissionSet did not succeed: ${execution?.failureMessage ?? "not started"}`,
    );
    claim(ic.hasAssignment(aliceIc, MEMBER_ACCOUNT, prodAdmin!.arn), "no account assignment for alice");
    claim(!ic.hasAssignment(aliceIc, HUB_ACCOUNT, prodAdmin!.arn), "alice was assigned in the hub account too");
    claim(w.grantPolicies(w.users.alice!).length === 0, "a permission-set grant put an IAM policy on alice");
    const notAfterParam = execution.parameters.NotAfter?.[0];
    claim(notAfterParam, "the execution has no NotAfter");
    psNotAfter = new Date(notAfterParam);
    const schedule = w.aws.state.schedules.get(`${HUB_ACCOUNT}/elevate/${psRequestId}`);
    claim(schedule, "no schedule for the end of the grant");
    claim(
      JSON.parse(schedule.target.Input ?? "{}").DocumentName === "Elevate-RevokePermissionSet",
      "the schedule does not run Elevate-RevokePermissionSet",
    );
    claim(w.evidenceNote(mergedPs.after)?.includes(psRequestId), "no evidence note on the merge commit");
    const notice = w.aws.state.published
      .map((m) => JSON.parse(m.message) as Record<string, unknown>)
      .find((m) => m.event === "granted" && m.requestId === psRequestId);
    claim(
      notice?.identityCenterUser === aliceIc &&
        notice.permissionSetArn === prodAdmin!.arn &&
        notice.accountId === MEMBER_ACCOUNT &&
        notice.iamUser === undefined,
      "the granted notification does not name the Identity Center user, permission set and account",
    );
    return [
      `assignment: ${aliceIc} -> ProdAdmin in ${MEMBER_ACCOUNT} (CreateAccountAssignment, status SUCCEEDED)`,
      `end scheduled: ${schedule.scheduleExpression} -> Elevate-RevokePermissionSet (EventBridge Scheduler, group elevate)`,
      `execution ${execution.id}; evidence note on ${mergedPs.after.slice(0, 12)}`,
      `SNS "granted": identityCenterUser ${aliceIc}, permissionSetArn, accountId ${MEMBER_ACCOUNT}`,
    ].join("\n");
  });

  step(`alice signs in through Identity Center to ProdAdmin in ${MEMBER_ACCOUNT}; bob cannot`, async () => {
    const w = world!;
    const ic = w.aws.state.identityCenter;
    session = ic.signIn({ userName: aliceIc, accountId: MEMBER_ACCOUNT, permissionSetArn: prodAdmin!.arn });
    const account = await callerAccount(w, session);
    claim(account === MEMBER_ACCOUNT, `alice's session works in ${account ?? "no account"}, not ${MEMBER_ACCOUNT}`);
    const bob = refusal(() =>
      ic.signIn({ userName: "bob@acme.com", accountId: MEMBER_ACCOUNT, permissionSetArn: prodAdmin!.arn }),
    );
    claim(bob, "bob signed in without an assignment");
    return [
      `session ${session.roleArn.split("/").pop()}/${aliceIc} (GetCallerIdentity: ${account})`,
      `bob: ${bob}`,
    ].join("\n");
  });

  step(
    "Time passes beyond the window: the schedule deletes the assignment (no GitHub run); sign-in refused",
    async () => {
      const w = world!;
      const ic = w.aws.state.identityCenter;
      w.aws.clock.set(new Date(psNotAfter!.getTime() + 60_000));
      const revoke = await scheduledEnd(w, "Elevate-RevokePermissionSet", psRequestId);
      claim(!ic.hasAssignment(aliceIc, MEMBER_ACCOUNT, prodAdmin!.arn), "the assignment is still there");
      const refused = refusal(() =>
        ic.signIn({ userName: aliceIc, accountId: MEMBER_ACCOUNT, permissionSetArn: prodAdmin!.arn }),
      );
      claim(refused, "alice could still sign in after notAfter");
      return [
        `clock at ${w.now().toISOString()}; Elevate-RevokePermissionSet started by ${revoke.executedBy.split("/").slice(-2).join("/")}`,
        `alice: ${refused}`,
      ].join("\n");
    },
  );

  step("The audit log shows both kinds: the IAM role and the permission set in its account", async () => {
    const w = world!;
    const workspace = w.scenario.checkoutWorkspace({ sha: w.scenario.mainSha(), ref: "refs/heads/main" });
    const result = await captureCli(["audit", "--format", "md"], workspace, w.now());
    claim(result.code === 0, `elevate audit exited ${result.code}: ${result.err.trim()}`);
    const rows = result.out.split("\n");
    const psRow = rows.find((l) => l.includes(psRequestId));
    claim(
      rows.some((l) => l.includes(requestId)),
      "the audit lost the IAM-role request",
    );
    claim(psRow, "the audit does not list the permission-set request");
    claim(
      /granted/i.test(psRow) && psRow.includes(MEMBER_ACCOUNT),
      "the audit row does not show the grant in the member account",
    );
    return rows.filter((l) => l.startsWith("|") && !l.includes(requestId)).join("\n");
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

function executionsOf(world: ElevateWorld, documentName: string, requestId: string): AutomationExecutionRecord[] {
  return [...world.aws.state.executions.values()].filter(
    (e) => e.documentName === documentName && e.parameters.RequestId?.[0] === requestId,
  );
}

/**
 * The one run of `documentName` for the request that the grant's end schedule started
 * (the clock has passed notAfter), once it is over: it must have succeeded.
 */
async function scheduledEnd(
  world: ElevateWorld,
  documentName: string,
  requestId: string,
): Promise<AutomationExecutionRecord> {
  await world.aws.state.settleSchedules();
  for (const e of executionsOf(world, documentName, requestId)) await finished(e);
  const runs = executionsOf(world, documentName, requestId);
  claim(runs.length === 1, `expected one ${documentName} run, found ${runs.length}`);
  const run = runs[0]!;
  claim(run.status === "Success", `${documentName} did not succeed: ${run.failureMessage ?? run.status}`);
  claim(/elevate-scheduler/.test(run.executedBy), `${documentName} was not started by the schedule: ${run.executedBy}`);
  return run;
}

/** Waits until the execution is over (not merely idle in a sleep). */
async function finished(execution: AutomationExecutionRecord): Promise<void> {
  for (let i = 0; i < 3000 && UNFINISHED.includes(execution.status); i++) {
    await execution.done;
    if (UNFINISHED.includes(execution.status)) await new Promise((r) => setTimeout(r, 20));
  }
  claim(!UNFINISHED.includes(execution.status), `${execution.documentName} ${execution.id} did not finish`);
}

/** The account a portal session's credentials act in (a signed GetCallerIdentity), or undefined when refused. */
async function callerAccount(world: ElevateWorld, signIn: PortalSignIn): Promise<string | undefined> {
  const sts = new STSClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: {
      accessKeyId: signIn.credential.accessKeyId,
      secretAccessKey: signIn.credential.secretAccessKey,
      ...(signIn.credential.sessionToken ? { sessionToken: signIn.credential.sessionToken } : {}),
    },
    maxAttempts: 1,
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

/** The refusal message of a sign-in that must fail, or undefined when it succeeded. */
function refusal(signIn: () => unknown): string | undefined {
  try {
    signIn();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
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
