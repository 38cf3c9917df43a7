/**
 * A typed question-and-answer wrapper around @cloud-copilot/iam-simulate for tests
 * and the sandbox (never imported from src/: the library is AGPL and test-only).
 *
 *   await iamDecision({
 *     principal: "arn:aws:iam::123456789012:user/alice.smith",
 *     action: "sts:AssumeRole",
 *     resource: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
 *     context: { "aws:CurrentTime": "2026-11-30T10:00:00Z", "sts:RoleSessionName": "alice.smith" },
 *     identityPolicies: [grantPolicyText(...)],
 *     resourcePolicy: trustPolicy,
 *   }) // -> "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"
 *
 * Strict by design, so that a test cannot pass for the wrong reason:
 *   - invalid policies, actions or ARNs throw (the simulator's validation errors are shown);
 *   - a context key that the simulator drops as not applicable to the action throws,
 *     unless `allowIgnoredContextKeys` is set (a silently dropped `aws:userid` would make
 *     a Deny look ineffective, or an Allow look tight, for the wrong reason);
 *   - the simulation runs in the library's Strict mode: conditions see exactly `context`,
 *     nothing is inferred (set `aws:CurrentTime`, `aws:TokenIssueTime`, ... yourself).
 */
import {
  type EvaluationResult,
  type RunSimulationResults,
  runSimulation,
  type Simulation,
  type SimulationIdentityPolicy,
} from "@cloud-copilot/iam-simulate";

/** A policy document: JSON text (URL-encoded as IAM returns it, or not) or a parsed object. */
export type PolicyInput = string | object;

export interface NamedPolicy {
  name: string;
  policy: PolicyInput;
}

export interface IamQuestion {
  /** ARN of the caller: an IAM user, or an assumed-role session (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`). */
  principal: string;
  action: string;
  /** Resource ARN, or `*` for actions that take no resource. */
  resource: string;
  /** Account that owns the resource; defaults to the account in `resource` (or the principal's for `*`). */
  resourceAccount?: string;
  /** Request context keys, e.g. `aws:CurrentTime`, `sts:RoleSessionName`, `aws:userid`. */
  context?: Record<string, string | string[]>;
  /** Identity policies of the principal (for a user: its inline and attached policies). */
  identityPolicies?: readonly (PolicyInput | NamedPolicy)[];
  /**
   * For an assumed-role principal: the role's own inline policies (e.g. the Elevate
   * session cut-off `elevate-cutoff-<user>`). They are the session's identity policies,
   * evaluated together with `identityPolicies`.
   */
  roleInlinePolicies?: readonly (PolicyInput | NamedPolicy)[];
  /** The resource-based policy of the resource; for `sts:AssumeRole`, the role's trust policy. */
  resourcePolicy?: PolicyInput;
  /** Permit context keys that do not apply to the action (they are dropped before evaluation). */
  allowIgnoredContextKeys?: boolean;
}

export interface IamAnswer {
  decision: EvaluationResult;
  allowed: boolean;
  /** Context keys the simulator dropped as not applicable (empty unless allowed by the question). */
  ignoredContextKeys: string[];
  raw: RunSimulationResults;
}

export function policyDocument(input: PolicyInput): object {
  if (typeof input !== "string") return input;
  const text = /^%7b/i.test(input) ? decodeURIComponent(input) : input;
  return JSON.parse(text) as object;
}

/** The account id field of an ARN (`arn:partition:service:region:account:resource`), if any. */
export function accountOfArn(arn: string): string | undefined {
  const account = arn.split(":")[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

function isNamedPolicy(entry: PolicyInput | NamedPolicy): entry is NamedPolicy {
  // A policy document has Version/Statement, never both `name` and `policy`.
  return typeof entry === "object" && "name" in entry && "policy" in entry && typeof entry.name === "string";
}

function named(prefix: string, policies: readonly (PolicyInput | NamedPolicy)[]): SimulationIdentityPolicy[] {
  return policies.map((entry, index) => {
    if (isNamedPolicy(entry)) return { name: entry.name, policy: policyDocument(entry.policy) };
    return { name: `${prefix}-${index + 1}`, policy: policyDocument(entry) };
  });
}

export async function simulateIam(question: IamQuestion): Promise<IamAnswer> {
  const roleInline = question.roleInlinePolicies ?? [];
  if (roleInline.length > 0 && !/^arn:[^:]+:sts::\d{12}:assumed-role\//.test(question.principal)) {
    throw new Error(`roleInlinePolicies apply to assumed-role sessions only, not to ${question.principal}`);
  }
  const resourceAccount =
    question.resourceAccount ??
    (question.resource === "*" ? accountOfArn(question.principal) : accountOfArn(question.resource));
  if (!resourceAccount) {
    throw new Error(`cannot tell the account of ${question.resource}; pass resourceAccount`);
  }
  const simulation: Simulation = {
    request: {
      principal: question.principal,
      action: question.action,
      resource: { resource: question.resource, accountId: resourceAccount },
      contextVariables: question.context ?? {},
    },
    identityPolicies: [...named("identity", question.identityPolicies ?? []), ...named("role-inline", roleInline)],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (question.resourcePolicy !== undefined) simulation.resourcePolicy = policyDocument(question.resourcePolicy);

  const raw = await runSimulation(simulation, { simulationMode: "Strict" });
  if (raw.resultType === "error") {
    throw new Error(`iam-simulate rejected the question: ${JSON.stringify(raw.errors)}`);
  }
  const results = raw.resultType === "single" ? [raw.result] : raw.results;
  const ignoredContextKeys = [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))].sort();
  if (ignoredContextKeys.length > 0 && !question.allowIgnoredContextKeys) {
    throw new Error(
      `iam-simulate ignored context keys ${ignoredContextKeys.join(", ")} for ${question.action}; ` +
        "the answer would not reflect them (set allowIgnoredContextKeys if that is intended)",
    );
  }
  return { decision: raw.overallResult, allowed: raw.overallResult === "Allowed", ignoredContextKeys, raw };
}

/** Just the decision: "Allowed", "ExplicitlyDenied" or "ImplicitlyDenied". */
export async function iamDecision(question: IamQuestion): Promise<EvaluationResult> {
  return (await simulateIam(question)).decision;
}
