/**
 * The world the attack-org-* tests attack: a hub (the stack, the IAM users, the Identity
 * Center instance, the multi-account administration role), a member account with the
 * member stack (deployed by a service-managed StackSet), an organisation account with
 * no member stack, and an account outside the organisation. Attackers get the
 * credentials the brief names: the grant and revoke roles' sessions (from GitHub OIDC
 * tokens, as the workflows get them), a member account's root, a requester's IAM user.
 *
 * `snapshot()` is everything an attack could change (grant and cut-off policies in every
 * account, schedules, assignments), so each row asserts "refused AND nothing changed".
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  TagUserCommand,
} from "@aws-sdk/client-iam";
import { SSMClient, StartAutomationExecutionCommand, type TargetLocation } from "@aws-sdk/client-ssm";
import {
  type AutomationExecutionRecord,
  type AwsSandbox,
  type Credentials,
  type PermissionSet,
  startAwsSandbox,
} from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { SandboxOrganization } from "../../sandbox/cfn/stackset.js";
import { GitHubOidcIssuer, stableId } from "../../sandbox/github/oidc.js";
import { EC2_FULL_ACCESS } from "../../sandbox/world.js";
import { workflowCredentials } from "./oidc-support.js";

export const HUB = "123456789012";
export const MEMBER = "210987654321";
/** A second account with the member stack (same OU). */
export const MEMBER2 = "567890123456";
/** In the organisation, but not in the StackSet's OU: no member stack. */
export const BARE = "345678901234";
/** Not in the organisation; its owner is the attacker. */
export const OUTSIDE = "456789012345";
export const NOW = new Date("2026-11-30T09:00:00Z");
export const EXAMPLE_ROLE = "EC2_FullAccess_Role";
export const HUB_ROLE_ARN = `arn:aws:iam::${HUB}:role/elevated/${EXAMPLE_ROLE}`;
export const MEMBER_ROLE_ARN = `arn:aws:iam::${MEMBER}:role/elevated/${EXAMPLE_ROLE}`;
const REPOSITORY = "acme/elevate";

export const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
export const at = (offsetMinutes: number) => iso(NOW.getTime() + offsetMinutes * 60_000);

export interface AttackWorld {
  sandbox: AwsSandbox;
  deployed: DeployResult;
  issuer: GitHubOidcIssuer;
  org: SandboxOrganization;
  prodAdmin: PermissionSet;
  uncatalogued: PermissionSet;
  eligibleGroupId: string;
  grantSsm: SSMClient;
  revokeSsm: SSMClient;
  /** Another instance's permission set ARN, well formed (same length of ids). */
  foreignPermissionSetArn: string;
  close(): Promise<void>;
}

export async function startAttackWorld(): Promise<AttackWorld> {
  const sandbox = await startAwsSandbox({
    accountIds: [HUB, MEMBER, MEMBER2, BARE, OUTSIDE],
    now: NOW,
    clockMode: "frozen",
  });
  const issuer = new GitHubOidcIssuer();
  sandbox.addTrustedIssuer({ issuerUrl: issuer.issuerUrl, publicKey: issuer.publicKey, kid: issuer.kid });
  const ic = sandbox.state.identityCenter;
  const canCall = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
  };
  const prodAdmin = ic.createPermissionSet({ name: "ProdAdmin", sessionDuration: "PT1H", inlinePolicy: canCall });
  const uncatalogued = ic.createPermissionSet({ name: "Uncatalogued", sessionDuration: "PT1H" });
  const eligibleGroupId = ic.createGroup("elevate-eligible").groupId;
  const deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: String(stableId(REPOSITORY)),
      CreateExampleRole: "true",
      CreateAutomationAdministrationRole: "true",
      GrantableRoles: `${HUB_ROLE_ARN}=2h,${MEMBER_ROLE_ARN}=2h`,
      IdentityCenterInstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      IdentityCenterEligibleGroupId: eligibleGroupId,
      GrantablePermissionSets: `${prodAdmin.arn}@${MEMBER}=2h`,
    },
    accountId: HUB,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint, scheduler: sandbox.endpoint },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  });
  const org = new SandboxOrganization(sandbox, HUB);
  const workloads = org.createOu("workloads");
  const sandboxOu = org.createOu("sandbox");
  await org.addAccount(workloads, MEMBER);
  await org.addAccount(workloads, MEMBER2);
  await org.addAccount(sandboxOu, BARE);
  org.createStackSet({
    name: "elevate-member",
    templatePath: "infra/member-template.yaml",
    parameters: { HubAccountId: HUB, CreateExampleRole: "true" },
    autoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  });
  await org.createStackInstances("elevate-member", [workloads], [sandbox.region]);
  const client = (workflow: "elevate-grant.yml" | "elevate-revoke.yml", roleArn: string) =>
    workflowCredentials(sandbox, issuer, roleArn, workflow).then(
      (credentials) =>
        new SSMClient({ region: sandbox.region, endpoint: sandbox.endpoint, credentials, maxAttempts: 1 }),
    );
  const grantSsm = await client("elevate-grant.yml", deployed.outputs.GrantRoleArn!);
  const revokeSsm = await client("elevate-revoke.yml", deployed.outputs.RevokeRoleArn!);
  return {
    sandbox,
    deployed,
    issuer,
    org,
    prodAdmin,
    uncatalogued,
    eligibleGroupId,
    grantSsm,
    revokeSsm,
    foreignPermissionSetArn: prodAdmin.arn.replace(/ssoins-[a-zA-Z0-9-.]{16}/, "ssoins-ffffffffffffffff"),
    async close() {
      grantSsm.destroy();
      revokeSsm.destroy();
      await sandbox.close();
    },
  };
}

export function iamOf(world: AttackWorld, account: string): IAMClient {
  return new IAMClient({
    region: world.sandbox.region,
    endpoint: world.sandbox.endpoint,
    credentials: world.sandbox.rootCredentialsFor(account),
  });
}

/** An IAM user in the hub the platform team made eligible (path /elevate/, tag elevate:eligible=true). */
export async function eligibleIamUser(world: AttackWorld, userName: string): Promise<Credentials> {
  const iam = iamOf(world, HUB);
  await iam.send(new CreateUserCommand({ UserName: userName, Path: "/elevate/" }));
  await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: "elevate:eligible", Value: "true" }] }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  iam.destroy();
  return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
}

/** An Identity Center user in the platform team's eligible group. */
export function eligibleIdentityCenterUser(world: AttackWorld, userName: string): void {
  const ic = world.sandbox.state.identityCenter;
  ic.createUser(userName);
  ic.addToGroup(world.eligibleGroupId, userName);
}

/** A cut-off written by hand (as an earlier revoke would have). */
export async function putCutoff(world: AttackWorld, account: string, roleName: string, name: string, text: string) {
  const iam = iamOf(world, account);
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: name, PolicyDocument: text }));
  iam.destroy();
}

export type Started = { started: false; error: string } | { started: true; id: string };

export async function start(
  ssm: SSMClient,
  document: string,
  parameters: Record<string, string>,
  targetLocations?: TargetLocation[],
): Promise<Started> {
  try {
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: document,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
        ...(targetLocations ? { TargetLocations: targetLocations } : {}),
      }),
    );
    return { started: true, id: out.AutomationExecutionId! };
  } catch (error) {
    return { started: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

const RUNNING = ["Pending", "InProgress", "Waiting", "Cancelling"];

/** Waits until the execution is over (not merely idle in a sleep). */
export async function finished(world: AttackWorld, id: string): Promise<AutomationExecutionRecord> {
  for (let i = 0; i < 6000; i++) {
    const record = world.sandbox.state.executions.get(id);
    if (record && !RUNNING.includes(record.status)) return record;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`execution ${id} did not finish`);
}

export function failure(record: AutomationExecutionRecord): string {
  const failed = record.steps.find((s) => s.StepStatus === "Failed");
  return `${failed?.StepName ?? ""}: ${record.failureMessage ?? ""} ${failed?.FailureMessage ?? ""}`;
}

/**
 * Everything an attack could change: inline policies of every role and user that can hold
 * grants or cut-offs, in every account; the schedules (name → target input); assignments.
 */
export function snapshot(world: AttackWorld, users: string[] = []): unknown {
  const { state } = world.sandbox;
  const grants = Object.fromEntries(users.map((u) => [u, state.userPolicies(u, HUB)]));
  const roles: Record<string, unknown> = {};
  for (const account of [HUB, MEMBER, MEMBER2, BARE, OUTSIDE]) {
    for (const role of ["EC2_FullAccess_Role", "elevate-member-cutoff", "OrganizationAccountAccessRole"]) {
      if (state.role(role, account)) roles[`${account}/${role}`] = state.rolePolicies(role, account);
    }
  }
  const schedules = Object.fromEntries([...state.schedules].map(([k, s]) => [k, s.target.Input]));
  const assignments = [...state.identityCenter.assignments.keys()].sort();
  return { grants, roles, schedules, assignments };
}
