/**
 * An Elevate "world": the AWS stand-in with infra/template.yaml deployed, the
 * GitHub stand-in with its OIDC issuer, IAM users, and a real git repository
 * holding a config that points at the deployed stack. The end-to-end tests,
 * `elevate demo` and the benchmarks all stand on this one fixture, so each of
 * them exercises the same wiring a real adoption has.
 *
 * One clock rules the world: the AWS sandbox's. GitHub timestamps, OIDC token
 * times, commit dates and the action's own clock (ELEVATE_NOW) all follow it,
 * so moving it moves everything consistently.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { parse as parseYaml } from "yaml";
import { type AwsSandbox, type Credentials, type PermissionSet, startAwsSandbox } from "./aws/index.js";
import { type DeployResult, deployTemplate } from "./cfn/deploy.js";
import { type UpdateResult, updateStack } from "./cfn/update.js";
import { type FileChanges, type GitIdentity, runGit } from "./git/repo.js";
import { RequestScenario } from "./git/scenario.js";
import { stableId, type WorkflowRunIdentity } from "./github/oidc.js";
import { GitHubSandbox } from "./github/server.js";
import type { EventEnvelope } from "./harness/events.js";
import { type ActionRun, DEFAULT_BUNDLE_PATH, runAction } from "./harness/run-action.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const TEMPLATE_PATH = `${REPO_ROOT}infra/template.yaml`;

/**
 * The IAM tag that marks a user eligible for grants (infra/template.yaml: the
 * automation role may put policies only on users that carry it).
 */
export const ELIGIBLE_TAG = { Key: "elevate:eligible", Value: "true" } as const;

/**
 * The stack's GrantableRoles for a config, as a platform team keeps them in
 * step: every catalog role's ARN with its maximum duration (the role's, else the
 * default, else 4h); an ARN listed under several keys gets the longest.
 */
export function grantableRolesFor(configText: string): string {
  const config = parseYaml(configText) as {
    defaults?: { maxDuration?: string };
    roles?: Record<string, { arn?: string; maxDuration?: string }>;
  };
  const fallback = config.defaults?.maxDuration ?? "4h";
  const seconds = (d: string) => {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
    return m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : 0;
  };
  const longest = new Map<string, string>();
  for (const role of Object.values(config.roles ?? {})) {
    // Permission-set roles are GrantablePermissionSets' business, not GrantableRoles'.
    if (role.arn === undefined) continue;
    const d = role.maxDuration ?? fallback;
    const known = longest.get(role.arn);
    if (known === undefined || seconds(d) > seconds(known)) longest.set(role.arn, d);
  }
  return [...longest].map(([arn, d]) => `${arn}=${d}`).join(",");
}

/** The sandbox has no AWS managed policies; the example role gets this stand-in inline. */
export const EC2_FULL_ACCESS = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }],
};

export type Mode = "check" | "grant" | "revoke";

/** The workflow file each mode ships in; the OIDC trust pins grant and revoke to theirs. */
export const WORKFLOW_OF: Record<Mode, string> = {
  check: ".github/workflows/elevate-check.yml",
  grant: ".github/workflows/elevate-grant.yml",
  revoke: ".github/workflows/elevate-revoke.yml",
};

export interface WorldOptions {
  /** World clock start; default 2026-11-30T08:00:00Z. */
  start?: Date;
  /** "following" (time passes, for the demo) or "frozen" (moves only when told, for tests). */
  clockMode?: "following" | "frozen";
  /** "owner/repo"; default "acme/elevate". */
  repository?: string;
  /** GitHub login -> IAM user name. Default alice, bob, carol, dave. */
  users?: Record<string, string>;
  /** Extra YAML appended under `roles:` (indented by 2) for more roles. */
  extraRoles?: string;
  /** Replaces the generated `defaults:` block body. */
  defaults?: string;
  /** CODEOWNERS text; default: bob and carol approve ec2-admin, platform owns the rest. */
  codeowners?: string;
  /** Extra files in the first commit. */
  extraFiles?: FileChanges;
  /** The action bundle to run; default the committed action/dist/index.js. */
  bundlePath?: string;
  /** Per-call latency injected into the AWS stand-in. */
  awsLatencyMs?: number;
  /** Extra or overriding infra/template.yaml parameters (e.g. CreateApprovalTopic). */
  stackParameters?: Record<string, string>;
  /** Sandbox accounts; the first is the hub (default ["123456789012"]). Others are member accounts. */
  accountIds?: string[];
  /**
   * Sets up IAM Identity Center (the sandbox's instance in the hub) and a permission-set
   * role in the catalog: `true` for the defaults, or an object to change them. Off by default.
   */
  identityCenter?: boolean | IdentityCenterWorldOptions;
}

export interface IdentityCenterWorldOptions {
  /** The account the permission set is assigned in; default the second sandbox account, else the hub. */
  accountId?: string;
  /** GitHub login -> Identity Center UserName; default every login of `users` -> `<login>@acme.example`. */
  users?: Record<string, string>;
  /** Catalog key of the permission-set role; default "prod-admin". */
  roleKey?: string;
  /** The role's maxDuration in the config and in GrantablePermissionSets; default 2h. */
  maxDuration?: string;
  /** The permission set's SessionDuration; default PT1H (the shortest Identity Center allows). */
  sessionDuration?: string;
  /** The permission set's name; default ProdAdmin. */
  permissionSetName?: string;
}

/** What the world set up in Identity Center (ElevateWorld.identityCenter). */
export interface IdentityCenterWorld {
  instanceArn: string;
  identityStoreId: string;
  /** The platform team's group of users Elevate may grant (stack parameter IdentityCenterEligibleGroupId). */
  eligibleGroupId: string;
  permissionSet: PermissionSet;
  /** The account the catalog's permission-set role is assigned in. */
  accountId: string;
  /** Catalog key of the permission-set role. */
  roleKey: string;
  /** GitHub login -> Identity Center UserName (each a member of the eligible group). */
  users: Record<string, string>;
}

/**
 * An action a permission-set session can be seen to use (sts:GetCallerIdentity is never
 * subject to IAM policies, so it cannot tell a live session's permissions).
 */
export const PERMISSION_SET_PROBE_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Sid: "SessionProbe", Effect: "Allow", Action: "iam:ListRoles", Resource: "*" }],
};

export const DEFAULT_USERS: Record<string, string> = {
  alice: "alice.smith",
  bob: "bob",
  carol: "carol",
  dave: "dave",
};

export const DEFAULT_CODEOWNERS = [
  "# Approvers per role (last match wins).",
  "/requests/ @carol",
  "/requests/ec2-admin/ @bob @carol",
  "/.github/ @carol",
  "",
].join("\n");

/** The default CODEOWNERS plus the permission-set role's approvers (bob and carol). */
export function codeownersWithPermissionSet(roleKey: string): string {
  return DEFAULT_CODEOWNERS.replace("/.github/ @carol", `/requests/${roleKey}/ @bob @carol\n/.github/ @carol`);
}

/**
 * Creates the Identity Center side a platform team has before adopting Elevate: a
 * permission set, identity store users for the GitHub logins and the eligible group.
 */
function setUpIdentityCenter(
  aws: AwsSandbox,
  users: Record<string, string>,
  option: true | IdentityCenterWorldOptions,
): IdentityCenterWorld {
  const o = option === true ? {} : option;
  const ic = aws.state.identityCenter;
  const accountIds = aws.state.identityCenter.accountIds();
  const accountId = o.accountId ?? accountIds[1] ?? aws.defaultAccountId;
  const icUsers = o.users ?? Object.fromEntries(Object.keys(users).map((login) => [login, `${login}@acme.example`]));
  const permissionSet = ic.createPermissionSet({
    name: o.permissionSetName ?? "ProdAdmin",
    sessionDuration: o.sessionDuration ?? "PT1H",
    inlinePolicy: PERMISSION_SET_PROBE_POLICY,
  });
  const group = ic.createGroup("elevate-eligible");
  for (const userName of Object.values(icUsers)) ic.createUser(userName);
  ic.addToGroup(group.groupId, ...Object.values(icUsers));
  return {
    instanceArn: ic.instanceArn,
    identityStoreId: ic.identityStoreId,
    eligibleGroupId: group.groupId,
    permissionSet,
    accountId,
    roleKey: o.roleKey ?? "prod-admin",
    users: icUsers,
  };
}

export interface RunOptions {
  inputs?: Record<string, string>;
  /** Overrides of the OIDC identity (another branch, another workflow, a PR …). */
  oidc?: Partial<WorkflowRunIdentity> | false;
  env?: Record<string, string>;
  /** Check out this envelope's sha in the workspace; default true. */
  checkout?: boolean;
  timeoutMs?: number;
  /**
   * How far the runner's clock is off AWS's (the world's), ms: positive ahead,
   * negative behind. The action reads its clock from ELEVATE_NOW; AWS's time
   * reaches it only through the sandbox's responses (their Date header).
   */
  runnerSkewMs?: number;
}

export class ElevateWorld {
  readonly aws: AwsSandbox;
  readonly github: GitHubSandbox;
  readonly scenario: RequestScenario;
  #stack: DeployResult;
  #stackParameters: Record<string, string>;
  readonly repository: string;
  readonly users: Record<string, string>;
  readonly configText: string;
  readonly bundlePath: string;
  /** What was set up in Identity Center, when the world was started with `identityCenter`. */
  readonly identityCenter: IdentityCenterWorld | undefined;
  #runs = 0;
  #keys = new Map<string, Credentials>();

  private constructor(init: {
    aws: AwsSandbox;
    github: GitHubSandbox;
    scenario: RequestScenario;
    stack: DeployResult;
    stackParameters: Record<string, string>;
    repository: string;
    users: Record<string, string>;
    configText: string;
    bundlePath: string;
    identityCenter: IdentityCenterWorld | undefined;
  }) {
    this.aws = init.aws;
    this.github = init.github;
    this.scenario = init.scenario;
    this.#stack = init.stack;
    this.#stackParameters = init.stackParameters;
    this.repository = init.repository;
    this.users = init.users;
    this.configText = init.configText;
    this.bundlePath = init.bundlePath;
    this.identityCenter = init.identityCenter;
  }

  static async start(options: WorldOptions = {}): Promise<ElevateWorld> {
    const repository = options.repository ?? "acme/elevate";
    const [owner, repo] = repository.split("/") as [string, string];
    const users = options.users ?? DEFAULT_USERS;
    const bundlePath = options.bundlePath ?? DEFAULT_BUNDLE_PATH;
    if (!existsSync(bundlePath)) throw new Error(`no action bundle at ${bundlePath}; run 'npm run build'`);

    const aws = await startAwsSandbox({
      now: options.start ?? new Date("2026-11-30T08:00:00Z"),
      clockMode: options.clockMode ?? "following",
      ...(options.accountIds ? { accountIds: options.accountIds } : {}),
    });
    const now = () => aws.clock.now();
    const github = await GitHubSandbox.start({ now });
    aws.addTrustedIssuer({
      issuerUrl: github.issuer.issuerUrl,
      publicKey: github.issuer.publicKey,
      kid: github.issuer.kid,
    });
    const identityCenter = options.identityCenter ? setUpIdentityCenter(aws, users, options.identityCenter) : undefined;
    const maxPermissionSetDuration =
      (typeof options.identityCenter === "object" ? options.identityCenter.maxDuration : undefined) ?? "2h";
    const { identityCenter: _icOption, ...renderOptions } = options;
    const renderInput = {
      aws,
      users,
      ...renderOptions,
      ...(identityCenter ? { identityCenter: { ...identityCenter, maxDuration: maxPermissionSetDuration } } : {}),
    };
    // The catalog is known before the stack: the example role's ARN is fixed by the template.
    const plannedConfig = renderConfig({
      ...renderInput,
      outputs: { ExampleRoleArn: `arn:aws:iam::${aws.defaultAccountId}:role/elevated/EC2_FullAccess_Role` },
    });
    const stackParameters = {
      GitHubOwner: owner,
      GitHubRepo: repo,
      // The id GitHub's OIDC token carries for this repository (sandbox/github/oidc.ts).
      GitHubRepoId: String(stableId(repository)),
      CreateNotificationTopic: "true",
      GrantableRoles: grantableRolesFor(plannedConfig),
      ...(identityCenter
        ? {
            IdentityCenterInstanceArn: identityCenter.instanceArn,
            IdentityStoreId: identityCenter.identityStoreId,
            IdentityCenterEligibleGroupId: identityCenter.eligibleGroupId,
            GrantablePermissionSets: `${identityCenter.permissionSet.arn}@${identityCenter.accountId}=${maxPermissionSetDuration}`,
          }
        : {}),
      ...options.stackParameters,
    };
    try {
      const stack = await deployTemplate({
        templatePath: TEMPLATE_PATH,
        parameters: stackParameters,
        accountId: aws.defaultAccountId,
        region: aws.region,
        credentials: aws.rootCredentials,
        endpoints: { iam: aws.endpoint, ssm: aws.endpoint, sns: aws.endpoint, scheduler: aws.endpoint },
        inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
      });
      const iam = new IAMClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.rootCredentials });
      for (const iamUser of Object.values(users)) {
        await iam.send(new CreateUserCommand({ UserName: iamUser, Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));
      }
      for (const login of Object.keys(users)) github.user(login);

      const out = stack.outputs as Record<string, string>;
      const configText = renderConfig({ ...renderInput, outputs: out });
      const scenario = RequestScenario.create({
        github,
        repository,
        now,
        initialFiles: {
          ".github/elevate.yml": configText,
          ".github/CODEOWNERS":
            options.codeowners ??
            (identityCenter ? codeownersWithPermissionSet(identityCenter.roleKey) : DEFAULT_CODEOWNERS),
          "requests/README.md": "Request files live here: requests/<role>/<id>.yaml\n",
          ...options.extraFiles,
        },
      });
      // Every configured user may push (code owners need write access to count);
      // tests take it away with github.setCollaborator.
      for (const login of Object.keys(users)) {
        github.setCollaborator(repository, login, "write");
      }
      if (options.awsLatencyMs) aws.knobs.latencyMs = options.awsLatencyMs;
      return new ElevateWorld({
        aws,
        github,
        scenario,
        stack,
        stackParameters,
        repository,
        users,
        configText,
        bundlePath,
        identityCenter,
      });
    } catch (error) {
      await github.close();
      await aws.close();
      throw error;
    }
  }

  now(): Date {
    return this.aws.clock.now();
  }

  /** The deployed stack, as the last deployment or update left it. */
  get stack(): DeployResult {
    return this.#stack;
  }

  /**
   * Updates the deployed stack as CloudFormation would (sandbox/cfn/update.ts):
   * `templateText` is the new template (default: infra/template.yaml as it is
   * now), `parameters` override the ones the world deployed with. Throws, and
   * leaves the stack as it was, when CloudFormation would fail the update.
   */
  async updateStack(
    input: { templateText?: string; parameters?: Record<string, string>; promoteDefaultVersion?: boolean } = {},
  ): Promise<UpdateResult> {
    const parameters = { ...this.#stackParameters, ...input.parameters };
    const result = await updateStack({
      stack: this.#stack,
      templatePath: TEMPLATE_PATH,
      ...(input.templateText !== undefined ? { templateText: input.templateText } : {}),
      parameters,
      accountId: this.aws.defaultAccountId,
      region: this.aws.region,
      credentials: this.aws.rootCredentials,
      endpoints: {
        iam: this.aws.endpoint,
        ssm: this.aws.endpoint,
        sns: this.aws.endpoint,
        scheduler: this.aws.endpoint,
      },
      inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
      ...(input.promoteDefaultVersion !== undefined ? { promoteDefaultVersion: input.promoteDefaultVersion } : {}),
    });
    this.#stack = result;
    this.#stackParameters = parameters;
    return result;
  }

  get outputs(): Record<string, string> {
    return this.stack.outputs as Record<string, string>;
  }

  /** The example privileged role (`EC2_FullAccess_Role`), catalog key `ec2-admin`. */
  get roleArn(): string {
    return this.outputs.ExampleRoleArn as string;
  }

  /**
   * Runs the committed action bundle as the runner would for `mode`, on the
   * event's commit, with the OIDC identity of that mode's workflow.
   */
  async runAction(mode: Mode, event: EventEnvelope, options: RunOptions = {}): Promise<ActionRun> {
    const runId = 1000 + ++this.#runs;
    const workspace =
      options.checkout === false
        ? this.scenario.checkoutWorkspace({ sha: this.scenario.mainSha(), ref: "refs/heads/main" })
        : this.scenario.checkoutWorkspace(event);
    const needsToken = mode !== "check" && options.oidc !== false;
    const identity: WorkflowRunIdentity = {
      repository: this.repository,
      eventName: event.eventName,
      ref: event.ref,
      sha: event.sha,
      workflowPath: WORKFLOW_OF[mode],
      actor: "github-actions[bot]",
      runId,
      ...(options.oidc || {}),
    };
    const oidc = needsToken ? this.github.registerOidcRun(identity, { now: this.now() }) : undefined;
    return runAction({
      bundlePath: this.bundlePath,
      inputs: { mode, "github-token": this.githubToken(), ...options.inputs },
      event,
      repository: this.repository,
      workspace,
      apiUrl: this.github.url,
      serverUrl: this.github.webUrl,
      ...(oidc ? { oidc } : {}),
      workflowPath: WORKFLOW_OF[mode],
      runId,
      env: {
        ...this.aws.env,
        ELEVATE_NOW: new Date(this.now().getTime() + (options.runnerSkewMs ?? 0)).toISOString(),
        // The SDK warns on Node < 22 at every process start; the real runner is node24.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...options.env,
      },
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  }

  #defaultToken: string | undefined;
  /** A token like the job's GITHUB_TOKEN (contents read, pull-requests/issues write). */
  githubToken(): string {
    this.#defaultToken ??= this.github.registerToken({
      permissions: { contents: "write", pullRequests: "write", issues: "write", metadata: "read" },
      label: "GITHUB_TOKEN",
    });
    return this.#defaultToken;
  }

  /** Long-term access keys of an IAM user, created on first use. */
  async userKeys(iamUser: string): Promise<Credentials> {
    const known = this.#keys.get(iamUser);
    if (known) return known;
    const iam = new IAMClient({
      region: this.aws.region,
      endpoint: this.aws.endpoint,
      credentials: this.aws.rootCredentials,
    });
    const out = await iam.send(new CreateAccessKeyCommand({ UserName: iamUser }));
    const keys = { accessKeyId: out.AccessKey!.AccessKeyId!, secretAccessKey: out.AccessKey!.SecretAccessKey! };
    this.#keys.set(iamUser, keys);
    return keys;
  }

  /**
   * What the requester does next: AssumeRole with their own keys and the
   * session name the console uses (the IAM user name).
   */
  async tryAssume(
    iamUser: string,
    roleArn = this.roleArn,
    sessionName = iamUser,
  ): Promise<{ ok: true; credentials: Credentials } | { ok: false; error: string }> {
    const sts = new STSClient({
      region: this.aws.region,
      endpoint: this.aws.endpoint,
      credentials: await this.userKeys(iamUser),
      maxAttempts: 1,
    });
    try {
      const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
      const c = out.Credentials!;
      return {
        ok: true,
        credentials: {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
        },
      };
    } catch (error) {
      return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
    }
  }

  /** Names of a user's `elevate-*` inline policies, straight from the IAM store. */
  grantPolicies(iamUser: string): string[] {
    return Object.keys(this.aws.state.userPolicies(iamUser)).filter((n) => n.startsWith("elevate-"));
  }

  /** The git notes on a commit in origin (refs/notes/elevate). */
  evidenceNote(sha: string): string | undefined {
    try {
      return runGit(this.scenario.git.originDir, ["notes", "--ref=refs/notes/elevate", "show", sha]);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.scenario.dispose();
    await this.github.close();
    await this.aws.close();
  }
}

export function renderConfig(input: {
  aws: AwsSandbox;
  outputs: Record<string, string>;
  users: Record<string, string>;
  extraRoles?: string;
  defaults?: string;
  identityCenter?: Pick<
    IdentityCenterWorld,
    "instanceArn" | "identityStoreId" | "permissionSet" | "accountId" | "roleKey" | "users"
  > & {
    maxDuration: string;
  };
}): string {
  const { aws, outputs, users } = input;
  const ic = input.identityCenter;
  const userLines = (login: string): string[] => {
    const iamUser = users[login];
    const icUser = ic?.users[login];
    if (icUser === undefined) return [`  ${login}: ${iamUser}`];
    return [
      `  ${login}:`,
      ...(iamUser !== undefined ? [`    iamUser: ${iamUser}`] : []),
      `    identityCenterUser: ${icUser}`,
    ];
  };
  return [
    "version: 1",
    "aws:",
    `  region: ${aws.region}`,
    `  accountId: "${aws.defaultAccountId}"`,
    `  grantRoleArn: ${outputs.GrantRoleArn}`,
    `  revokeRoleArn: ${outputs.RevokeRoleArn}`,
    `  automationRoleArn: ${outputs.AutomationRoleArn}`,
    `  grantDocument: ${outputs.GrantDocumentName}`,
    `  revokeDocument: ${outputs.RevokeDocumentName}`,
    ...(outputs.NotifyTopicArn ? [`  notifyTopicArn: ${outputs.NotifyTopicArn}`] : []),
    ...(ic
      ? ["  identityCenter:", `    instanceArn: ${ic.instanceArn}`, `    identityStoreId: ${ic.identityStoreId}`]
      : []),
    "defaults:",
    ...(input.defaults ?? "  maxDuration: 4h\n  approvals: 1\n  requireTicket: false").split("\n"),
    "users:",
    ...[...new Set([...Object.keys(users), ...Object.keys(ic?.users ?? {})])].flatMap(userLines),
    "roles:",
    "  ec2-admin:",
    `    arn: ${outputs.ExampleRoleArn}`,
    "    maxDuration: 2h",
    ...(ic
      ? [
          `  ${ic.roleKey}:`,
          `    permissionSet: ${ic.permissionSet.arn}`,
          `    account: "${ic.accountId}"`,
          `    maxDuration: ${ic.maxDuration}`,
        ]
      : []),
    ...(input.extraRoles ? input.extraRoles.split("\n") : []),
    "",
  ].join("\n");
}

/** A request file's text. */
export function requestYaml(fields: {
  requester: string;
  role?: string;
  duration?: string;
  reason?: string;
  ticket?: string;
  start?: string;
}): string {
  return [
    `requester: ${fields.requester}`,
    `role: ${fields.role ?? "ec2-admin"}`,
    `duration: ${fields.duration ?? "1h"}`,
    `reason: ${fields.reason ?? "Resize the web ASG during INC-1234"}`,
    ...(fields.ticket ? [`ticket: ${fields.ticket}`] : []),
    ...(fields.start ? [`start: ${fields.start}`] : []),
    "",
  ].join("\n");
}

export type { GitIdentity };
