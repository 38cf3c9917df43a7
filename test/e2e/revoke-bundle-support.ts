/**
 * Shared steps of the revoke-bundle end-to-end tests: a world that runs the action
 * bundle named by ELEVATE_TEST_BUNDLE (default: the committed action/dist/index.js),
 * grants through the real PR → approve → merge → grant-run loop, revoke runs for
 * each trigger of elevate-revoke.yml, and probes of what IAM and STS now allow.
 */
import { CreateRoleCommand, IAMClient, ListRolesCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { expect } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import { type EventEnvelope, scheduleEvent, workflowDispatchEvent } from "../../sandbox/harness/events.js";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import { ElevateWorld, WORKFLOW_OF, type WorldOptions } from "../../sandbox/world.js";

/** Sandbox role name of the example privileged role (infra/template.yaml ElevatedEc2Role). */
export const EXAMPLE_ROLE = "EC2_FullAccess_Role";

/**
 * An action a role session can be seen to use. The example role only allows ec2:*,
 * which the AWS stand-in does not serve, and sts:GetCallerIdentity is never subject
 * to IAM policies ("GetCallerIdentity", AWS STS API Reference: it works even under an
 * explicit deny), so each privileged role also gets this read-only permission.
 */
export const SESSION_PROBE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "SessionProbe", Effect: "Allow", Action: "iam:ListRoles", Resource: "*" }],
});

/**
 * A frozen-clock world for revoke runs. By default EventBridge Scheduler drops every
 * expiry schedule (an outage): these tests exercise the GitHub-side revoke, which is
 * the safety net once the AWS side ends grants by itself (expire-grant-bundle.test.ts
 * tests that). `awsExpiry: true` keeps the schedules firing.
 */
export async function startRevokeWorld(options: WorldOptions & { awsExpiry?: boolean } = {}): Promise<ElevateWorld> {
  const bundlePath = process.env.ELEVATE_TEST_BUNDLE;
  const { awsExpiry, ...worldOptions } = options;
  const world = await ElevateWorld.start({
    clockMode: "frozen",
    ...(bundlePath ? { bundlePath } : {}),
    ...worldOptions,
  });
  world.aws.knobs.dropAllInvocations = awsExpiry !== true;
  await rootIam(world).send(
    new PutRolePolicyCommand({
      RoleName: EXAMPLE_ROLE,
      PolicyName: "session-probe",
      PolicyDocument: SESSION_PROBE_POLICY,
    }),
  );
  return world;
}

export function rootIam(world: ElevateWorld): IAMClient {
  return new IAMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: world.aws.rootCredentials,
  });
}

/**
 * A second privileged role, deployed as the template deploys one listed in
 * PrivilegedRoleArns: trust the account with the session name pinned to the IAM user
 * name, the automation role may manage its cut-offs, the revoke role may read it.
 */
/** The IAM policy variable the template's trust policies use (infra/template.yaml ElevatedEc2Role). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JavaScript placeholder
const AWS_USERNAME_VARIABLE = "${aws:username}";

export async function addPrivilegedRole(world: ElevateWorld, roleName: string): Promise<string> {
  const iam = rootIam(world);
  const account = world.aws.defaultAccountId;
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      Path: "/elevated/",
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${account}:root` },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:RoleSessionName": AWS_USERNAME_VARIABLE } },
          },
        ],
      }),
    }),
  );
  const arn = created.Role?.Arn as string;
  await iam.send(
    new PutRolePolicyCommand({ RoleName: roleName, PolicyName: "session-probe", PolicyDocument: SESSION_PROBE_POLICY }),
  );
  // What the template's HasPrivilegedRoleArns statements give the stack's roles for this role.
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "elevate-automation",
      PolicyName: `privileged-${roleName}`,
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: [
              "iam:PutRolePolicy",
              "iam:DeleteRolePolicy",
              "iam:GetRolePolicy",
              "iam:ListRolePolicies",
              "iam:GetRole",
            ],
            Resource: arn,
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "elevate-revoke",
      PolicyName: `privileged-${roleName}`,
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "iam:GetRole", Resource: arn }],
      }),
    }),
  );
  return arn;
}

/** Opens a request PR by `author` adding `files`, approves it with `approver`, merges it and runs grant on the push. */
export async function grantThroughPr(
  world: ElevateWorld,
  input: { author: string; approver: string; files: Record<string, string> },
): Promise<ActionRun> {
  const pr = world.scenario.openRequestPr({ author: input.author, files: input.files });
  pr.approve(input.approver);
  const merged = pr.merge("merge");
  const run = await world.runAction("grant", merged.pushEvent);
  const ids = Object.keys(input.files).map((f) => /([^/]+)\.ya?ml$/.exec(f)?.[1]);
  expect(run.exitCode, run.stdout).toBe(0);
  expect(JSON.parse(run.outputs.granted ?? "[]")).toEqual(ids);
  return run;
}

export function scheduledRun(world: ElevateWorld): EventEnvelope {
  return scheduleEvent({
    repository: world.scenario.webhookRepository(),
    cron: "17 * * * *",
    sha: world.scenario.mainSha(),
  });
}

export function dispatchRun(world: ElevateWorld, request: string, sender = "carol"): EventEnvelope {
  return workflowDispatchEvent({
    repository: world.scenario.webhookRepository(),
    sender,
    sha: world.scenario.mainSha(),
    workflowPath: WORKFLOW_OF.revoke,
    inputs: { request },
  });
}

/** Runs revoke mode; `inputs` are the step's `with:` (the workflow passes `request` from the dispatch inputs). */
export async function revoke(
  world: ElevateWorld,
  event: EventEnvelope,
  inputs: Record<string, string> = {},
): Promise<ActionRun> {
  return world.runAction("revoke", event, { inputs });
}

export function jsonOutput(run: ActionRun, name: string): unknown {
  const text = run.outputs[name];
  if (text === undefined) throw new Error(`no output ${name}; stdout:\n${run.stdout.slice(-3000)}`);
  return JSON.parse(text);
}

/** What a role session can still do: an IAM call its role allows. */
export async function sessionWorks(world: ElevateWorld, credentials: Credentials): Promise<true | string> {
  const iam = new IAMClient({ region: world.aws.region, endpoint: world.aws.endpoint, credentials, maxAttempts: 1 });
  try {
    await iam.send(new ListRolesCommand({ MaxItems: 1 }));
    return true;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    iam.destroy();
  }
}

/** A role session of `iamUser` taken now (the user's own keys, session name = user name). */
export async function takeSession(world: ElevateWorld, iamUser: string, roleArn = world.roleArn): Promise<Credentials> {
  const assumed = await world.tryAssume(iamUser, roleArn);
  if (!assumed.ok) throw new Error(`${iamUser} could not assume ${roleArn}: ${assumed.error}`);
  return assumed.credentials;
}

/** Names of the session cut-off policies on a role. */
export function cutoffsOn(world: ElevateWorld, roleName: string): string[] {
  return Object.keys(world.aws.state.rolePolicies(roleName)).filter((n) => n.startsWith("elevate-cutoff-"));
}

/** The revocation time written in a cut-off policy. */
export function cutoffTime(world: ElevateWorld, roleName: string, iamUser: string): string | undefined {
  const doc = world.aws.state.rolePolicies(roleName)[`elevate-cutoff-${iamUser}`] as
    | { Statement: { Condition: { DateLessThan: { "aws:TokenIssueTime": string } } }[] }
    | undefined;
  return doc?.Statement[0]?.Condition.DateLessThan["aws:TokenIssueTime"];
}

/** Automation executions of one document, optionally for one request id. */
export function executionsOf(world: ElevateWorld, documentName: string, requestId?: string) {
  return [...world.aws.state.executions.values()].filter(
    (e) => e.documentName === documentName && (requestId === undefined || e.parameters.RequestId?.[0] === requestId),
  );
}

export function at(iso: string): Date {
  return new Date(iso);
}
