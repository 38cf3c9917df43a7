/**
 * Elevate-GrantPermissionSet / Elevate-RevokePermissionSet end to end in the sandbox,
 * across two accounts (the hub, which holds the stack and the Identity Center instance,
 * and a member account): started with the SDK as the grant and revoke workflows would
 * (their roles' credentials from GitHub's OIDC token), run by the sandbox's Automation
 * engine with the real sso-admin / identitystore / Scheduler wire calls, and "used"
 * through the sandbox's access-portal sign-in.
 *
 * Pinned here: grant → assignment and sign-in; the end at NotAfter by the schedule alone
 * (no GitHub run), new sign-ins refused, a live session lasting its SessionDuration and
 * no longer; early revoke; overlapping grants sharing one assignment; ceiling refusals;
 * stolen grant/revoke credentials unable to step outside the catalog.
 */

import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  ListAccountAssignmentsCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type AutomationExecutionRecord,
  type AwsSandbox,
  type Credentials,
  type PermissionSet,
  type PortalSignIn,
  startAwsSandbox,
} from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { updateStack } from "../../sandbox/cfn/update.js";
import { GitHubOidcIssuer, stableId } from "../../sandbox/github/oidc.js";
import { workflowCredentials as workflowRoleCredentials } from "./oidc-support.js";

// Each runbook step that calls AWS runs python3 with boto3 (about a second each on a
// quiet machine), and the status polls sleep for real: give a loaded machine room.
vi.setConfig({ testTimeout: 120_000 });

const HUB = "123456789012";
const MEMBER = "210987654321";
const NOW = new Date("2026-11-30T09:00:00Z");
const REPOSITORY = "acme/elevate";

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const at = (offsetMinutes: number) => iso(NOW.getTime() + offsetMinutes * 60_000);

let sandbox: AwsSandbox;
let deployed: DeployResult;
let issuer: GitHubOidcIssuer;
let prodAdmin: PermissionSet;
let readOnly: PermissionSet;
let uncatalogued: PermissionSet;
let grantSsm: SSMClient;
/** The platform team's group: only its members may be granted (stack parameter IdentityCenterEligibleGroupId). */
let eligibleGroupId: string;
let revokeSsm: SSMClient;

/** The grant or revoke workflow's role session, from a GitHub OIDC token of a run on main. */
function workflowCredentials(workflow: "elevate-grant.yml" | "elevate-revoke.yml"): Promise<Credentials> {
  const roleArn = workflow === "elevate-grant.yml" ? deployed.outputs.GrantRoleArn : deployed.outputs.RevokeRoleArn;
  return workflowRoleCredentials(sandbox, issuer, roleArn as string, workflow);
}

type Started = { started: false; error: string } | { started: true; id: string };

async function start(ssm: SSMClient, document: string, parameters: Record<string, string>): Promise<Started> {
  try {
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: document,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
      }),
    );
    return { started: true, id: out.AutomationExecutionId! };
  } catch (error) {
    return { started: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Waits until the execution is over (not merely idle in a sleep). */
async function finished(id: string): Promise<AutomationExecutionRecord> {
  for (let i = 0; i < 4500; i++) {
    const record = sandbox.state.executions.get(id);
    if (record && !["Pending", "InProgress", "Waiting", "Cancelling"].includes(record.status)) return record;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`execution ${id} did not finish`);
}

function failure(record: AutomationExecutionRecord): string {
  const failed = record.steps.find((s) => s.StepStatus === "Failed");
  return `${failed?.StepName ?? ""}: ${record.failureMessage ?? ""}`;
}

interface GrantInput {
  requestId: string;
  userName: string;
  permissionSet?: PermissionSet;
  accountId?: string;
  notBefore?: string;
  notAfter?: string;
}

function grantParameters(g: GrantInput): Record<string, string> {
  return {
    AutomationAssumeRole: deployed.outputs.AutomationRoleArn!,
    RequestId: g.requestId,
    UserName: g.userName,
    PermissionSetArn: (g.permissionSet ?? prodAdmin).arn,
    AccountId: g.accountId ?? MEMBER,
    NotBefore: g.notBefore ?? at(0),
    NotAfter: g.notAfter ?? at(60),
  };
}

/** Starts a grant with the grant workflow's credentials; resolves with its execution once over. */
async function grant(g: GrantInput, ssm = grantSsm): Promise<AutomationExecutionRecord> {
  const started = await start(ssm, "Elevate-GrantPermissionSet", grantParameters(g));
  if (!started.started) throw new Error(started.error);
  return finished(started.id);
}

async function revokeNow(g: GrantInput, ssm = revokeSsm): Promise<AutomationExecutionRecord> {
  const started = await start(ssm, "Elevate-RevokePermissionSet", {
    AutomationAssumeRole: deployed.outputs.AutomationRoleArn!,
    RequestId: g.requestId,
    UserName: g.userName,
    PermissionSetArn: (g.permissionSet ?? prodAdmin).arn,
    AccountId: g.accountId ?? MEMBER,
  });
  if (!started.started) throw new Error(started.error);
  return finished(started.id);
}

const assigned = (userName: string, ps = prodAdmin, account = MEMBER) =>
  sandbox.state.identityCenter.hasAssignment(userName, account, ps.arn);

function signIn(userName: string, ps = prodAdmin, account = MEMBER): PortalSignIn {
  return sandbox.state.identityCenter.signIn({ userName, accountId: account, permissionSetArn: ps.arn });
}

/** Whether a portal session's credentials still work (a signed call in its account). */
async function sessionWorks(session: PortalSignIn): Promise<boolean> {
  const sts = new STSClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: {
      accessKeyId: session.credential.accessKeyId,
      secretAccessKey: session.credential.secretAccessKey,
      sessionToken: session.credential.sessionToken!,
    },
    maxAttempts: 1,
  });
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(session.accountId);
    return true;
  } catch (error) {
    expect((error as Error).name).toBe("ExpiredToken");
    return false;
  } finally {
    sts.destroy();
  }
}

/** Moves the sandbox clock and lets every due schedule, and what it started, run to its end. */
async function moveClock(to: string): Promise<void> {
  sandbox.clock.set(new Date(to));
  await sandbox.state.settleSchedules();
  for (const e of sandbox.state.executions.values()) {
    if (
      ["Pending", "InProgress", "Waiting", "Cancelling"].includes(e.status) &&
      e.documentName === "Elevate-RevokePermissionSet"
    ) {
      // A revoke sleeping until NotAfter wakes on the clock move; wait for it when it is due.
      const notAfter = e.parameters.NotAfter?.[0];
      if (notAfter && notAfter !== "now" && Date.parse(notAfter) <= sandbox.clock.now().getTime()) await finished(e.id);
    }
  }
}

function revokeExecutions(requestId: string): AutomationExecutionRecord[] {
  return [...sandbox.state.executions.values()].filter(
    (e) => e.documentName === "Elevate-RevokePermissionSet" && e.parameters.RequestId?.[0] === requestId,
  );
}

/** An identity store user the platform team has made eligible (a member of the group). */
function member(userName: string): void {
  const ic = sandbox.state.identityCenter;
  ic.createUser(userName);
  ic.addToGroup(eligibleGroupId, userName);
}

const outputOf = (record: AutomationExecutionRecord, name: string) => record.outputs[`revoke.${name}`]?.[0];

beforeAll(async () => {
  sandbox = await startAwsSandbox({ accountIds: [HUB, MEMBER], now: NOW, clockMode: "frozen" });
  issuer = new GitHubOidcIssuer();
  sandbox.addTrustedIssuer({ issuerUrl: issuer.issuerUrl, publicKey: issuer.publicKey, kid: issuer.kid });
  const ic = sandbox.state.identityCenter;
  const canCall = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
  };
  prodAdmin = ic.createPermissionSet({ name: "ProdAdmin", sessionDuration: "PT1H", inlinePolicy: canCall });
  readOnly = ic.createPermissionSet({ name: "ReadOnly", sessionDuration: "PT2H", inlinePolicy: canCall });
  uncatalogued = ic.createPermissionSet({ name: "Uncatalogued", sessionDuration: "PT1H" });
  eligibleGroupId = ic.createGroup("elevate-eligible").groupId;
  deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: String(stableId(REPOSITORY)),
      CreateExampleRole: "false",
      IdentityCenterInstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      IdentityCenterEligibleGroupId: eligibleGroupId,
      GrantablePermissionSets: `${prodAdmin.arn}@${MEMBER}=2h,${readOnly.arn}@${HUB}=1h`,
    },
    accountId: HUB,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: {
      iam: sandbox.endpoint,
      ssm: sandbox.endpoint,
      sns: sandbox.endpoint,
      scheduler: sandbox.endpoint,
    },
  });
  grantSsm = new SSMClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: await workflowCredentials("elevate-grant.yml"),
    maxAttempts: 1,
  });
  revokeSsm = new SSMClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: await workflowCredentials("elevate-revoke.yml"),
    maxAttempts: 1,
  });
}, 60_000);

afterAll(async () => {
  grantSsm?.destroy();
  revokeSsm?.destroy();
  await sandbox?.close();
});

beforeEach(() => {
  // Assignment operations finish at once unless a test asks for the asynchronous path.
  sandbox.state.identityCenter.knobs.statusPolls = 0;
  sandbox.clock.set(NOW);
});

describe("grant", () => {
  it("creates the assignment in the member account, waits for SUCCEEDED, schedules the end; the user can sign in", async () => {
    const ic = sandbox.state.identityCenter;
    member("alice@acme.com");
    ic.knobs.statusPolls = 1; // one status read answers IN_PROGRESS
    expect(() => signIn("alice@acme.com")).toThrow(/no assignment/);
    const record = await grant({ requestId: "alice-1", userName: "alice@acme.com" });
    expect(record.status, failure(record)).toBe("Success");
    expect(assigned("alice@acme.com")).toBe(true);
    // The status was polled until it left IN_PROGRESS, as the automation role.
    const polls = sandbox.calls("DescribeAccountAssignmentCreationStatus", "sso");
    expect(polls.map((c) => c.outcome)).toEqual(["ok", "ok"]);
    expect(polls[0]?.principal).toMatch(/:assumed-role\/elevate-automation\//);
    const schedule = sandbox.state.schedules.get(`${HUB}/elevate/alice-1`);
    expect(schedule?.scheduleExpression).toBe(`at(${at(59).slice(0, 19)})`);
    expect(JSON.parse(schedule?.target.Input ?? "{}")).toEqual({
      DocumentName: "Elevate-RevokePermissionSet",
      DocumentVersion: "$LATEST",
      Parameters: {
        AutomationAssumeRole: [deployed.outputs.AutomationRoleArn],
        RequestId: ["alice-1"],
        UserName: ["alice@acme.com"],
        PermissionSetArn: [prodAdmin.arn],
        AccountId: [MEMBER],
        NotBefore: [at(0)],
        NotAfter: [at(60)],
      },
    });
    const session = signIn("alice@acme.com");
    expect(session.roleArn).toMatch(
      new RegExp(
        `^arn:aws:iam::${MEMBER}:role/aws-reserved/sso.amazonaws.com/${sandbox.region}/AWSReservedSSO_ProdAdmin_`,
      ),
    );
    expect(await sessionWorks(session)).toBe(true);
    // Re-running the same grant is a no-op: one assignment, the same schedule.
    const again = await grant({ requestId: "alice-1", userName: "alice@acme.com" });
    expect(again.status, failure(again)).toBe("Success");
    expect(again.outputs["scheduleEnd.ScheduleArn"]).toEqual(record.outputs["scheduleEnd.ScheduleArn"]);
    await revokeNow({ requestId: "alice-1", userName: "alice@acme.com" });
  });

  it("grants in the hub account too (the second account of the catalog)", async () => {
    member("hana@acme.com");
    const record = await grant({
      requestId: "hana-1",
      userName: "hana@acme.com",
      permissionSet: readOnly,
      accountId: HUB,
    });
    expect(record.status, failure(record)).toBe("Success");
    const session = signIn("hana@acme.com", readOnly, HUB);
    expect(session.credential.expiration?.getTime()).toBe(NOW.getTime() + 2 * 3600_000);
    expect(await sessionWorks(session)).toBe(true);
    expect(assigned("hana@acme.com", readOnly, MEMBER)).toBe(false);
    const revoked = await revokeNow({
      requestId: "hana-1",
      userName: "hana@acme.com",
      permissionSet: readOnly,
      accountId: HUB,
    });
    expect(outputOf(revoked, "Outcome")).toBe("Deleted");
  });

  it("a FAILED assignment fails the execution with Identity Center's reason; nothing is assigned", async () => {
    const ic = sandbox.state.identityCenter;
    member("fay@acme.com");
    ic.knobs.failNextOperation("create", "Received a 400 status error: the account is suspended");
    const record = await grant({ requestId: "fay-1", userName: "fay@acme.com" });
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(
      /^createAssignment: .*ended FAILED: Received a 400 status error: the account is suspended/,
    );
    expect(assigned("fay@acme.com")).toBe(false);
    // Its end still fires, into nothing.
    await moveClock(at(60));
    const [end] = revokeExecutions("fay-1");
    expect(end?.status).toBe("Success");
    expect(outputOf(end!, "Outcome")).toBe("AlreadyAbsent");
  });

  it("a window that starts later is assigned at NotBefore, not before", async () => {
    member("gus@acme.com");
    const started = await start(
      grantSsm,
      "Elevate-GrantPermissionSet",
      grantParameters({ requestId: "gus-1", userName: "gus@acme.com", notBefore: at(30), notAfter: at(90) }),
    );
    expect(started.started).toBe(true);
    const id = (started as { id: string }).id;
    await sandbox.state.waitForExecution(id); // idle in waitForStart
    expect(sandbox.state.executions.get(id)?.status).toBe("InProgress");
    expect(assigned("gus@acme.com")).toBe(false);
    expect(() => signIn("gus@acme.com")).toThrow(/no assignment/);
    sandbox.clock.set(new Date(at(30)));
    const record = await finished(id);
    expect(record.status, failure(record)).toBe("Success");
    expect(assigned("gus@acme.com")).toBe(true);
    await moveClock(at(90));
    expect(assigned("gus@acme.com")).toBe(false);
  });
});

describe("the end at NotAfter, in AWS alone", () => {
  it("the schedule deletes the assignment at NotAfter (not before); new sign-ins are refused; a live session lasts its SessionDuration and no longer", async () => {
    member("carol@acme.com");
    const record = await grant({ requestId: "carol-1", userName: "carol@acme.com", notAfter: at(60) });
    expect(record.status, failure(record)).toBe("Success");
    const startsBefore = sandbox.calls("StartAutomationExecution", "ssm").length;
    // Ten minutes before the end, carol signs in: PT1H from now.
    sandbox.clock.set(new Date(at(50)));
    const session = signIn("carol@acme.com");
    expect(session.credential.expiration?.toISOString()).toBe(new Date(at(110)).toISOString());
    // The schedule fires in the minute before NotAfter; the revoke waits for NotAfter itself.
    const fireAt = sandbox.state.schedules.get(`${HUB}/elevate/carol-1`)?.fireAt as Date;
    expect(fireAt.getTime()).toBeLessThan(Date.parse(at(60)));
    await moveClock(iso(fireAt.getTime()));
    const [end] = revokeExecutions("carol-1");
    expect(end?.status).toBe("InProgress");
    expect(assigned("carol@acme.com")).toBe(true);
    const starter = sandbox.calls("StartAutomationExecution", "ssm").slice(startsBefore);
    expect(starter.map((c) => c.principal)).toEqual([expect.stringMatching(/:assumed-role\/elevate-scheduler\//)]);
    await moveClock(at(60));
    const done = await finished(end!.id);
    expect(done.status, failure(done)).toBe("Success");
    expect(outputOf(done, "Outcome")).toBe("Deleted");
    expect(assigned("carol@acme.com")).toBe(false);
    expect(() => signIn("carol@acme.com")).toThrow(/no assignment/);
    // No GitHub run: nothing but the scheduler started anything.
    expect(sandbox.calls("AssumeRoleWithWebIdentity", "sts").length).toBe(2);
    // The session signed in at 50m lives on until 110m (its PT1H) ...
    sandbox.clock.set(new Date(NOW.getTime() + 110 * 60_000 - 1000));
    expect(await sessionWorks(session)).toBe(true);
    // ... and no longer.
    sandbox.clock.set(new Date(at(110)));
    expect(await sessionWorks(session)).toBe(false);
    // Its schedule is gone (ActionAfterCompletion DELETE).
    expect(sandbox.state.schedules.has(`${HUB}/elevate/carol-1`)).toBe(false);
  });
});

describe("early revoke", () => {
  it("deletes the assignment now and the grant's end schedule; sign-ins are refused", async () => {
    member("dave@acme.com");
    await grant({ requestId: "dave-1", userName: "dave@acme.com" });
    expect(sandbox.state.schedules.has(`${HUB}/elevate/dave-1`)).toBe(true);
    sandbox.clock.set(new Date(at(10)));
    const record = await revokeNow({ requestId: "dave-1", userName: "dave@acme.com" });
    expect(record.status, failure(record)).toBe("Success");
    expect(outputOf(record, "Outcome")).toBe("Deleted");
    expect(assigned("dave@acme.com")).toBe(false);
    expect(sandbox.state.schedules.has(`${HUB}/elevate/dave-1`)).toBe(false);
    expect(() => signIn("dave@acme.com")).toThrow(/no assignment/);
    // Again: nothing left to do.
    const again = await revokeNow({ requestId: "dave-1", userName: "dave@acme.com" });
    expect(outputOf(again, "Outcome")).toBe("AlreadyAbsent");
  });
});

describe("overlapping grants share one assignment", () => {
  it("revoking one keeps the assignment while another covers now; the last one's end deletes it", async () => {
    member("erin@acme.com");
    const short = { requestId: "erin-short", userName: "erin@acme.com", notAfter: at(60) };
    const long = { requestId: "erin-long", userName: "erin@acme.com", notAfter: at(120) };
    expect((await grant(short)).status).toBe("Success");
    expect((await grant(long)).status).toBe("Success");
    const sso = new SSOAdminClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: sandbox.rootCredentials,
    });
    const list = await sso.send(
      new ListAccountAssignmentsCommand({
        InstanceArn: sandbox.state.identityCenter.instanceArn,
        AccountId: MEMBER,
        PermissionSetArn: prodAdmin.arn,
      }),
    );
    const erinId = sandbox.state.identityCenter.userByName("erin@acme.com")?.userId;
    expect(list.AccountAssignments?.filter((a) => a.PrincipalId === erinId)).toHaveLength(1);
    sso.destroy();
    // Early revoke of the short one: the long one covers now.
    sandbox.clock.set(new Date(at(10)));
    const early = await revokeNow(short);
    expect(outputOf(early, "Outcome")).toBe("KeptForOtherGrants");
    expect(outputOf(early, "CoveringRequests")).toBe("erin-long");
    expect(assigned("erin@acme.com")).toBe(true);
    expect(sandbox.state.schedules.has(`${HUB}/elevate/erin-short`)).toBe(false);
    // The long one's end deletes it.
    await moveClock(at(120));
    const [end] = revokeExecutions("erin-long");
    expect(outputOf(end!, "Outcome")).toBe("Deleted");
    expect(assigned("erin@acme.com")).toBe(false);
  });

  it("at the first grant's NotAfter the second keeps it; a later-starting grant does not cover now", async () => {
    member("ivan@acme.com");
    const first = { requestId: "ivan-first", userName: "ivan@acme.com", notAfter: at(60) };
    const second = { requestId: "ivan-second", userName: "ivan@acme.com", notBefore: at(30), notAfter: at(120) };
    const later = { requestId: "ivan-later", userName: "ivan@acme.com", notBefore: at(150), notAfter: at(180) };
    expect((await grant(first)).status).toBe("Success");
    const secondStart = await start(grantSsm, "Elevate-GrantPermissionSet", grantParameters(second));
    const laterStart = await start(grantSsm, "Elevate-GrantPermissionSet", grantParameters(later));
    expect(secondStart.started && laterStart.started).toBe(true);
    await moveClock(at(30));
    const secondRecord = await finished((secondStart as { id: string }).id);
    expect(secondRecord.status, failure(secondRecord)).toBe("Success");
    // First ends at 60: second covers 30..120.
    await moveClock(at(60));
    expect(outputOf(revokeExecutions("ivan-first")[0]!, "Outcome")).toBe("KeptForOtherGrants");
    expect(assigned("ivan@acme.com")).toBe(true);
    // Second ends at 120: "later" starts at 150, so it does not cover now: deleted.
    await moveClock(at(120));
    expect(outputOf(revokeExecutions("ivan-second")[0]!, "Outcome")).toBe("Deleted");
    expect(assigned("ivan@acme.com")).toBe(false);
    expect(() => signIn("ivan@acme.com")).toThrow(/no assignment/);
    // At 150 the later grant assigns it again, and its own end removes it.
    await moveClock(at(150));
    const laterRecord = await finished((laterStart as { id: string }).id);
    expect(laterRecord.status, failure(laterRecord)).toBe("Success");
    expect(assigned("ivan@acme.com")).toBe(true);
    await moveClock(at(180));
    expect(assigned("ivan@acme.com")).toBe(false);
  });
});

describe("a grant racing a revoke of the same assignment", () => {
  it("a grant that schedules its end while the revoke is deleting gets its assignment back", async () => {
    const ic = sandbox.state.identityCenter;
    member("rita@acme.com");
    const old = { requestId: "rita-old", userName: "rita@acme.com", notAfter: at(60) };
    expect((await grant(old)).status).toBe("Success");
    // Deletions (and creations) now answer IN_PROGRESS twice: the runbooks' polls take
    // about 7 s of real time, long enough for the racing grant to schedule its end.
    ic.knobs.statusPolls = 2;
    const deletesBefore = sandbox.calls("DeleteAccountAssignment", "sso").length;
    const revoking = revokeNow(old);
    for (let i = 0; i < 1500 && sandbox.calls("DeleteAccountAssignment", "sso").length === deletesBefore; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // The deletion is in progress; a new grant of the same pair starts now.
    const racing = grant({ requestId: "rita-new", userName: "rita@acme.com", notAfter: at(90) });
    const [revoked, granted] = await Promise.all([revoking, racing]);
    expect(granted.status, failure(granted)).toBe("Success");
    expect(revoked.status, failure(revoked)).toBe("Success");
    expect(outputOf(revoked, "Outcome")).toBe("RestoredForOtherGrants");
    expect(outputOf(revoked, "CoveringRequests")).toBe("rita-new");
    // The grant's creation met the deletion in progress at least once and retried.
    expect(sandbox.calls("CreateAccountAssignment", "sso").map((c) => c.outcome)).toContain("ConflictException");
    expect(assigned("rita@acme.com")).toBe(true);
    ic.knobs.statusPolls = 0;
    await moveClock(at(90));
    expect(assigned("rita@acme.com")).toBe(false);
  });
});

describe("the ceiling, with the grant workflow's credentials", () => {
  /** Every assignment and schedule: what a grant would change. */
  const snapshot = () =>
    JSON.stringify({
      assignments: [...sandbox.state.identityCenter.assignments.keys()].sort(),
      schedules: [...sandbox.state.schedules.keys()].sort(),
    });

  async function refused(g: Partial<GrantInput> & Record<string, string>, why: RegExp): Promise<void> {
    const before = snapshot();
    const parameters = {
      ...grantParameters({ requestId: `attack-${Math.random().toString(36).slice(2, 8)}`, userName: "bob@acme.com" }),
      ...g,
    };
    const started = await start(grantSsm, "Elevate-GrantPermissionSet", parameters);
    const text = started.started
      ? (() => {
          throw new Error("unreachable");
        })()
      : started.error;
    expect(text).toMatch(why);
    expect(snapshot()).toBe(before);
  }

  async function failed(g: Record<string, string>, why: RegExp): Promise<void> {
    const before = snapshot();
    const parameters = {
      ...grantParameters({ requestId: `attack-${Math.random().toString(36).slice(2, 8)}`, userName: "bob@acme.com" }),
      ...g,
    };
    const started = await start(grantSsm, "Elevate-GrantPermissionSet", parameters);
    expect(started.started).toBe(true);
    const record = await finished((started as { id: string }).id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(why);
    expect(snapshot()).toBe(before);
  }

  beforeAll(() => {
    member("bob@acme.com");
  });

  it("refuses a permission set outside GrantablePermissionSets", async () => {
    await failed(
      { PermissionSetArn: uncatalogued.arn },
      /^checkCeiling: .*is not in the stack's GrantablePermissionSets/,
    );
  });

  it("refuses a catalogued permission set in an account it is not catalogued for", async () => {
    await failed(
      { AccountId: HUB },
      /^checkCeiling: .*in account 123456789012 is not in the stack's GrantablePermissionSets/,
    );
    await failed({ PermissionSetArn: readOnly.arn, AccountId: MEMBER }, /^checkCeiling: /);
  });

  it("refuses a window longer than the entry's maximum", async () => {
    await failed({ NotAfter: iso(NOW.getTime() + 7_201_000) }, /^checkCeiling: .*allows at most 7200 s/);
    await failed(
      { PermissionSetArn: readOnly.arn, AccountId: HUB, NotAfter: at(61) },
      /^checkCeiling: .*allows at most 3600 s/,
    );
  });

  it("refuses a user the identity store does not know (before anything is scheduled)", async () => {
    await failed({ UserName: "mallory@acme.com" }, /^resolveUser: .*ResourceNotFoundException/);
    // Another letter case is another name.
    await failed({ UserName: "BOB@acme.com" }, /^resolveUser: .*ResourceNotFoundException/);
  });

  it.each([
    ["a user name that closes the JSON string", { UserName: 'bob@acme.com"}' }],
    ["a user name with a space", { UserName: "bob @acme.com" }],
    ["a wildcard permission set", { PermissionSetArn: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/*" }],
    [
      "a permission set ARN of another partition",
      { PermissionSetArn: "arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef" },
    ],
    ["a wildcard account", { AccountId: "*" }],
    ["an account list", { AccountId: `${MEMBER},${HUB}` }],
    ["a time with a zone", { NotAfter: "2026-11-30T10:00:00+09:00" }],
    ["a request id with a slash", { RequestId: "../attack" }],
  ])("refuses hostile parameters before anything runs: %s", async (_label, overrides) => {
    await refused(overrides as Record<string, string>, /InvalidAutomationExecutionParameters|ValidationException/);
  });
});

describe("stolen credentials cannot step outside the catalog", () => {
  it("the grant role cannot assign directly, nor start the revoke runbook", async () => {
    const ic = sandbox.state.identityCenter;
    member("mallory@acme.com");
    const creds = await workflowCredentials("elevate-grant.yml");
    const sso = new SSOAdminClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    await expect(
      sso.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: ic.instanceArn,
          TargetId: MEMBER,
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: uncatalogued.arn,
          PrincipalType: "USER",
          PrincipalId: ic.userByName("mallory@acme.com")!.userId,
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    sso.destroy();
    const started = await start(grantSsm, "Elevate-RevokePermissionSet", {
      AutomationAssumeRole: deployed.outputs.AutomationRoleArn!,
      RequestId: "whatever",
      UserName: "mallory@acme.com",
      PermissionSetArn: prodAdmin.arn,
      AccountId: MEMBER,
    });
    expect(started.started ? "started" : started.error).toMatch(/AccessDenied/);
    expect(assigned("mallory@acme.com", uncatalogued)).toBe(false);
  });

  it("the revoke role cannot grant, nor delete assignments Elevate did not make", async () => {
    const ic = sandbox.state.identityCenter;
    member("olga@acme.com");
    // A standing assignment made outside Elevate.
    const sso = new SSOAdminClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: sandbox.rootCredentials,
    });
    const standing = {
      InstanceArn: ic.instanceArn,
      TargetId: MEMBER,
      TargetType: "AWS_ACCOUNT" as const,
      PermissionSetArn: uncatalogued.arn,
      PrincipalType: "USER" as const,
      PrincipalId: ic.userByName("olga@acme.com")!.userId,
    };
    await sso.send(new CreateAccountAssignmentCommand(standing));
    ic.settle();
    sso.destroy();
    expect(assigned("olga@acme.com", uncatalogued)).toBe(true);
    const started = await start(
      revokeSsm,
      "Elevate-GrantPermissionSet",
      grantParameters({ requestId: "olga-1", userName: "olga@acme.com" }),
    );
    expect(started.started ? "started" : started.error).toMatch(/AccessDenied/);
    const record = await revokeNow({ requestId: "olga-x", userName: "olga@acme.com", permissionSet: uncatalogued });
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(
      /neither in the stack's GrantablePermissionSets nor ended by a schedule of request olga-x/,
    );
    expect(assigned("olga@acme.com", uncatalogued)).toBe(true);
    const revokeCreds = await workflowCredentials("elevate-revoke.yml");
    const direct = new SSOAdminClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: revokeCreds,
      maxAttempts: 1,
    });
    await expect(direct.send(new DeleteAccountAssignmentCommand(standing))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    direct.destroy();
    expect(assigned("olga@acme.com", uncatalogued)).toBe(true);
  });
});

describe("eligible users: only members of the platform team's group (IdentityCenterEligibleGroupId)", () => {
  const schedule = (requestId: string) => sandbox.state.schedules.get(`${HUB}/elevate/${requestId}`);

  it("stolen grant-role credentials cannot grant a catalogued permission set to a user outside the group: nothing scheduled, nothing assigned", async () => {
    sandbox.state.identityCenter.createUser("nina@acme.com"); // in the identity store, not in the group
    const record = await grant({ requestId: "nina-1", userName: "nina@acme.com" });
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(
      new RegExp(`^checkEligible: .*nina@acme.com is not in the identity store group ${eligibleGroupId}`),
    );
    expect(failure(record)).toMatch(/IdentityCenterEligibleGroupId/);
    expect(assigned("nina@acme.com")).toBe(false);
    expect(schedule("nina-1")).toBeUndefined();
    // The identity store answered the automation role, on the group and the user.
    const checks = sandbox.calls("IsMemberInGroups", "identitystore");
    expect(checks.at(-1)?.outcome).toBe("ok");
    expect(checks.at(-1)?.principal).toMatch(/:assumed-role\/elevate-automation\//);
  });

  it("the same user is granted once the platform team adds her to the group", async () => {
    const ic = sandbox.state.identityCenter;
    ic.createUser("paula@acme.com");
    expect((await grant({ requestId: "paula-1", userName: "paula@acme.com" })).status).toBe("Failed");
    ic.addToGroup(eligibleGroupId, "paula@acme.com");
    const record = await grant({ requestId: "paula-2", userName: "paula@acme.com" });
    expect(record.status, failure(record)).toBe("Success");
    expect(assigned("paula@acme.com")).toBe(true);
    expect(schedule("paula-2")).toBeDefined();
    expect((await revokeNow({ requestId: "paula-2", userName: "paula@acme.com" })).status).toBe("Success");
    expect(assigned("paula@acme.com")).toBe(false);
  });

  it("a member removed while a later window waits gets nothing at NotBefore", async () => {
    const ic = sandbox.state.identityCenter;
    member("quinn@acme.com");
    const started = await start(
      grantSsm,
      "Elevate-GrantPermissionSet",
      grantParameters({ requestId: "quinn-1", userName: "quinn@acme.com", notBefore: at(30), notAfter: at(90) }),
    );
    expect(started.started).toBe(true);
    const id = (started as { id: string }).id;
    await sandbox.state.waitForExecution(id); // idle in waitForStart, the end already scheduled
    expect(schedule("quinn-1")).toBeDefined();
    ic.removeFromGroup(eligibleGroupId, "quinn@acme.com");
    sandbox.clock.set(new Date(at(30)));
    const record = await finished(id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/^createAssignment: .*quinn@acme.com is no longer in the identity store group/);
    expect(assigned("quinn@acme.com")).toBe(false);
    // Its end runs at NotAfter and finds nothing to delete.
    await moveClock(at(90));
    expect(assigned("quinn@acme.com")).toBe(false);
  });

  // Last in the file: it updates the stack.
  it("no group configured: every permission-set grant is refused, members included, naming the stack parameter", async () => {
    const ic = sandbox.state.identityCenter;
    const parameters = {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: String(stableId(REPOSITORY)),
      CreateExampleRole: "false",
      IdentityCenterInstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      GrantablePermissionSets: `${prodAdmin.arn}@${MEMBER}=2h,${readOnly.arn}@${HUB}=1h`,
    };
    deployed = await updateStack({
      templatePath: "infra/template.yaml",
      parameters,
      stack: deployed,
      accountId: HUB,
      region: sandbox.region,
      credentials: sandbox.rootCredentials,
      endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint, scheduler: sandbox.endpoint },
    });
    member("rosa@acme.com");
    const record = await grant({ requestId: "rosa-1", userName: "rosa@acme.com" });
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(
      /^checkCeiling: .*no Identity Center user is eligible: set the stack parameter IdentityCenterEligibleGroupId/,
    );
    expect(assigned("rosa@acme.com")).toBe(false);
    expect(schedule("rosa-1")).toBeUndefined();
  });
});
