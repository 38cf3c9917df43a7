/**
 * `elevate status`: the live grants read from IAM, each with its window and
 * remaining time, matched to its request in git, and the drift the revoker
 * would find (README.md "CLI"). Read-only: it needs only
 * iam:GetAccountAuthorizationDetails (and iam:GetRole for cut-off ages) from the
 * default AWS credential chain, and decides with the same `planRevocations` as
 * the revoke workflow, so both always agree.
 *
 * Exit status: 0 no drift, 1 drift found, 2 usage, config or credential error.
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { SSMClient } from "@aws-sdk/client-ssm";
import { AwsClock, observeAwsTime } from "../adapters/aws-clock.js";
import { describeAwsError } from "../adapters/aws-errors.js";
import { knownProfiles, sharedFilePaths } from "../adapters/aws-profiles.js";
import { formatLocatedError } from "../domain/errors.js";
import { formatIamTime } from "../domain/grant-policy.js";
import { humanDuration } from "../domain/grant-report.js";
import {
  type PermissionSetStatus,
  permissionSetDrift,
  permissionSetStatus,
  permissionSetStatusLines,
} from "../domain/permission-set-status.js";
import { RESERVED_ID_PREFIX } from "../domain/request-path.js";
import {
  accountGrantRecords,
  type DriftFinding,
  type KnownRequest,
  planRevocations,
  type RevokePlan,
} from "../domain/revoke-plan.js";
import { closestName } from "../domain/suggest.js";
import { textTable } from "../domain/text-table.js";
import type { CommandOutcome } from "./command-io.js";
import {
  completeRequestFacts,
  GRANT_RECORD_LOOKBACK_MS,
  readGrantRecords,
  readInventory,
  readKnownRequests,
} from "./inventory.js";
import { catalogPairs, gatherPermissionSetPlan } from "./permission-set-inventory.js";
import { loadWorkspaceConfig, openWorkspace } from "./validate.js";

export interface StatusRow {
  requestId: string;
  iamUser: string;
  roleArn: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** active / pending: kept; expired: awaiting the revoker; withdrawn: request deleted, awaiting the revoker; unparsed: not our shape. */
  state: "active" | "pending" | "expired" | "withdrawn" | "unparsed";
  remainingSeconds: number | null;
  requestFile: string | null;
  drift: boolean;
}

export interface StatusResult {
  accountId: string;
  now: string;
  grants: StatusRow[];
  drift: DriftFinding[];
  cutoffs: { roleArn: string; iamUser: string; revokedAt: string | null; clearable: boolean }[];
  listingCalls: number;
  /** Identity Center assignments of the catalogued permission sets (configs with permission-set roles). */
  permissionSets?: PermissionSetStatus;
}

/** Pure: the rows `elevate status` shows for a plan made with no early revokes and drift = report. */
export function statusRows(plan: RevokePlan, known: ReadonlyMap<string, KnownRequest> | undefined): StatusRow[] {
  const driftIds = new Set(plan.drift.flatMap((d) => (d.requestId ? [d.requestId] : [])));
  const rows: StatusRow[] = [];
  for (const k of plan.keep) {
    rows.push({
      requestId: k.requestId,
      iamUser: k.iamUser,
      roleArn: k.roleArn,
      notBefore: formatIamTime(k.window.notBefore),
      notAfter: formatIamTime(k.window.notAfter),
      state: k.state,
      remainingSeconds: Math.floor(k.remainingMs / 1000),
      requestFile: k.file ?? null,
      drift: driftIds.has(k.requestId),
    });
  }
  for (const r of plan.revoke) {
    rows.push({
      requestId: r.requestId,
      iamUser: r.iamUser,
      roleArn: r.roleArn ?? null,
      notBefore: r.window ? formatIamTime(r.window.notBefore) : null,
      notAfter: r.window ? formatIamTime(r.window.notAfter) : null,
      state: r.reason === "expired" ? "expired" : r.window ? "withdrawn" : "unparsed",
      remainingSeconds: r.reason === "expired" ? 0 : null,
      requestFile: known?.get(r.requestId)?.file ?? null,
      drift: driftIds.has(r.requestId),
    });
  }
  for (const d of plan.drift) {
    if (d.kind === "not-addressable" || (d.kind === "malformed" && d.action === "report")) {
      rows.push({
        requestId: d.requestId ?? d.policyName,
        iamUser: d.iamUser ?? "",
        roleArn: null,
        notBefore: null,
        notAfter: null,
        state: "unparsed",
        remainingSeconds: null,
        requestFile: null,
        drift: true,
      });
    }
  }
  return rows.sort(
    (a, b) => (a.notAfter ?? "").localeCompare(b.notAfter ?? "") || a.requestId.localeCompare(b.requestId),
  );
}

export function statusText(result: StatusResult): string {
  const lines: string[] = [];
  if (result.grants.length === 0) {
    lines.push(`No Elevate grants in account ${result.accountId} at ${result.now}.`);
  } else {
    const header = ["REQUEST", "USER", "ROLE", "NOT BEFORE", "NOT AFTER", "STATE", "REMAINING", "REQUEST FILE"];
    const body = result.grants.map((g) => [
      g.drift ? `${g.requestId} (drift)` : g.requestId,
      g.iamUser,
      g.roleArn ?? "?",
      g.notBefore ?? "?",
      g.notAfter ?? "?",
      g.state,
      g.remainingSeconds === null ? "-" : g.state === "expired" ? "ended" : humanDuration(g.remainingSeconds * 1000),
      g.requestFile ?? "(none)",
    ]);
    lines.push(textTable([header, ...body]));
  }
  if (result.cutoffs.length > 0) {
    lines.push("", "Session cut-offs:");
    for (const c of result.cutoffs) {
      lines.push(
        `  ${c.iamUser} on ${c.roleArn}: sessions issued before ${c.revokedAt ?? "(unparsed)"} denied${c.clearable ? " (expired; the revoker will remove it)" : ""}`,
      );
    }
  }
  if (result.drift.length > 0) {
    lines.push("", `Drift (${result.drift.length}):`);
    for (const d of result.drift) lines.push(`  ${d.kind}: ${d.message}`);
  }
  lines.push(...permissionSetStatusLines(result.permissionSets));
  return `${lines.join("\n")}\n`;
}

export interface StatusOptions {
  cwd: string;
  config?: string | undefined;
  format: "text" | "json";
  ref: string;
  now: Date;
  /** `--profile`: a named profile of the shared AWS config/credentials files. */
  profile?: string | undefined;
  /** `--region`: overrides the config's aws.region. */
  region?: string | undefined;
}

export interface StatusIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROGRAM_STATUS = "elevate status";

/** What went wrong, for `--format json` (`{"error": {"kind", "message"}}`) and the exit status. */
export type StatusErrorKind = "config" | "profile" | "credentials" | "access-denied" | "network" | "aws" | "git";

function isCredentialError(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? "";
  return /CredentialsProviderError|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient/.test(
    name,
  );
}

const NETWORK_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** True for a request that never got an answer from AWS: no network, DNS, proxy, timeout. */
export function isNetworkError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  if (e?.name === "TimeoutError" || e?.name === "RequestTimeout") return true;
  return false;
}

/**
 * The SDK's NodeVersionSupportWarning (Node 20 is past the SDK's support date)
 * says nothing a requester can act on. Turned off with the SDK's own switch, and
 * only when the user has not set it: other warnings still print.
 */
function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/** `ok` no drift, `problems` drift found, `failed` config, credential, AWS or git error. */
export async function runStatus(options: StatusOptions, io: StatusIo): Promise<CommandOutcome> {
  /** Prints the failure (and, with --format json, the same as a JSON object on stdout). */
  const fail = (kind: StatusErrorKind, message: string, jsonMessage = message): CommandOutcome => {
    if (options.format === "json") {
      io.stdout(`${JSON.stringify({ error: { kind, message: jsonMessage } }, null, 2)}\n`);
    }
    io.stderr(`${PROGRAM_STATUS}: ${message}\n`);
    return "failed";
  };
  const workspace = await openWorkspace(options.cwd);
  const loaded = await loadWorkspaceConfig(workspace, options.config);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(`${formatLocatedError(e)}\n`);
    return fail(
      "config",
      "the config is invalid or missing",
      `the config is invalid or missing: ${loaded.errors.map(formatLocatedError).join("; ")}`,
    );
  }
  const { config } = loaded;
  if (options.profile !== undefined) {
    const files = sharedFilePaths();
    const profiles = await knownProfiles(files);
    if (!profiles.has(options.profile)) {
      const known = [...profiles].sort();
      const guess = closestName(options.profile, known);
      return fail(
        "profile",
        `--profile ${options.profile}: no such profile in ${files.configFile} or ${files.credentialsFile}${guess ? `; did you mean --profile ${guess}?` : ""}${known.length > 0 ? ` (profiles: ${known.join(", ")})` : " (no profiles there; `aws configure --profile NAME` or `aws configure sso` makes one)"}`,
      );
    }
  }
  const region = options.region ?? config.aws.region;
  const endpoint = process.env.AWS_ENDPOINT_URL_IAM ?? process.env.AWS_ENDPOINT_URL ?? "https://iam.amazonaws.com";
  quietSdkNodeVersionWarning();
  // Default credential chain (environment, shared files, SSO, instance role), or the named profile; read-only calls only.
  const iam = new IAMClient({
    region,
    maxAttempts: 6,
    retryMode: "adaptive",
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
  // Windows and cut-off ages are judged on AWS's clock (the responses' Date), as the
  // revoker judges them; this machine's clock only stands in when IAM sent no Date.
  const awsClock = new AwsClock();
  observeAwsTime(iam, awsClock);
  const now = (): Date => (awsClock.known ? awsClock.now() : options.now);
  let read: Awaited<ReturnType<typeof readInventory>>;
  try {
    read = await readInventory(iam, config.aws.accountId, now);
  } catch (error) {
    const via = options.profile !== undefined ? `profile ${options.profile}` : "the default credential chain";
    if (isNetworkError(error)) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      return fail(
        "network",
        `cannot reach IAM at ${endpoint} (${code}): check your network connection, VPN or proxy (HTTPS_PROXY), then run it again`,
      );
    }
    if (isCredentialError(error)) {
      return fail(
        "credentials",
        `cannot read the grants from IAM: ${describeAwsError(error)}; status needs read-only AWS credentials for account ${config.aws.accountId} allowed iam:GetAccountAuthorizationDetails and iam:GetRole (from ${via}: --profile, AWS_PROFILE, environment, SSO — after \`aws sso login\` when the profile uses SSO)`,
      );
    }
    const name = (error as { name?: string })?.name ?? "";
    if (/AccessDenied/.test(name)) {
      return fail(
        "access-denied",
        `cannot read the grants from IAM: ${describeAwsError(error)}; the identity from ${via} needs iam:GetAccountAuthorizationDetails and iam:GetRole in account ${config.aws.accountId}`,
      );
    }
    return fail("aws", `cannot read the grants from IAM: ${describeAwsError(error)}`);
  } finally {
    iam.destroy();
  }
  if (!workspace.inGit) {
    return fail("git", `${workspace.root} is not a git repository; run inside the Elevate repository`);
  }
  let known: Awaited<ReturnType<typeof readKnownRequests>>;
  try {
    known = await readKnownRequests(workspace.root, options.ref);
    await completeRequestFacts(
      workspace.root,
      config,
      known,
      read.inventory.grants.map((g) => g.requestId),
    );
  } catch (error) {
    return fail("git", `cannot read request history at ${options.ref}: ${(error as Error).message}`);
  }
  // A break-glass grant has no request file: only its Elevate-Grant execution in SSM
  // accounts for it (never its evidence note). Read only when there is one.
  const glass = read.inventory.grants.map((g) => g.requestId).filter((id) => id.startsWith(RESERVED_ID_PREFIX));
  if (glass.length > 0) {
    const ssm = new SSMClient({
      region,
      maxAttempts: 6,
      retryMode: "adaptive",
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    });
    try {
      const records = await readGrantRecords(
        ssm,
        config.aws.grantDocument,
        new Date(now().getTime() - GRANT_RECORD_LOOKBACK_MS),
      );
      accountGrantRecords(known as Map<string, KnownRequest>, records, glass);
    } catch (error) {
      io.stderr(
        `${PROGRAM_STATUS}: break-glass grants not verified: the Elevate-Grant executions could not be read from SSM (${describeAwsError(error)}; needs ssm:DescribeAutomationExecutions and ssm:GetAutomationExecution)\n`,
      );
    } finally {
      ssm.destroy();
    }
  }
  const readAt = now();
  const plan = planRevocations({
    inventory: read.inventory,
    now: readAt,
    earlyRevokeIds: [],
    knownRequests: known,
    driftMode: "report",
  });
  const clearable = new Set(plan.clearCutoffs.map((c) => `${c.roleArn}\n${c.iamUser}`));
  const result: StatusResult = {
    accountId: config.aws.accountId,
    now: formatIamTime(readAt),
    grants: statusRows(plan, known),
    drift: plan.drift,
    cutoffs: read.inventory.cutoffs.map((c) => ({
      roleArn: c.roleArn,
      iamUser: c.iamUser,
      revokedAt: c.revokedAt ? formatIamTime(c.revokedAt) : null,
      clearable: clearable.has(`${c.roleArn}\n${c.iamUser}`),
    })),
    listingCalls: read.listingCalls,
  };
  if (catalogPairs(config).length > 0) {
    const ssm = new SSMClient({
      region,
      maxAttempts: 6,
      retryMode: "adaptive",
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
    });
    try {
      const psPlan = await gatherPermissionSetPlan({
        cwd: workspace.root,
        config,
        credentials: undefined,
        ssm,
        now: readAt,
        known,
        profile: options.profile,
      });
      if (psPlan) result.permissionSets = permissionSetStatus(psPlan);
    } catch (error) {
      return fail(
        "aws",
        `cannot read the Identity Center assignments: ${describeAwsError(error)}; status needs sso:ListAccountAssignments, identitystore:DescribeUser, ssm:DescribeAutomationExecutions and ssm:GetAutomationExecution`,
      );
    } finally {
      ssm.destroy();
    }
  }
  io.stdout(options.format === "json" ? `${JSON.stringify(result, null, 2)}\n` : statusText(result));
  return plan.drift.length > 0 || permissionSetDrift(result.permissionSets) > 0 ? "problems" : "ok";
}
