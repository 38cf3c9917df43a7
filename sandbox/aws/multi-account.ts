/**
 * SSM Automation's multi-account execution: StartAutomationExecution (or an
 * aws:executeAutomation step) with TargetLocations, started in a central account.
 * "Running automations in multiple AWS Regions and accounts",
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/running-automations-multiple-accounts-regions.html
 *
 *   - Automation assumes the central account's administration role, whose name is
 *     fixed: AWS-SystemsManager-AutomationAdministrationRole (the API has no parameter
 *     for it), as ssm.amazonaws.com with the confused-deputy keys SSM sets;
 *   - that role assumes each target account's execution role (TargetLocation
 *     ExecutionRoleName, default AWS-SystemsManager-AutomationExecutionRole): the
 *     administration role's identity policy AND the execution role's trust policy must
 *     allow it (cross-account AssumeRole, evaluated by iam-simulate like any other call);
 *   - a child execution runs in every target account and Region, with the central
 *     account's document, as the execution role (a runbook without assumeRole acts as
 *     its caller, "Run an automated operation powered by Systems Manager Automation",
 *     https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-working.html);
 *   - the parent (AutomationType CrossAccount) shows one step per location and ends
 *     Success when every child succeeded, Failed otherwise.
 * The sandbox serves one Region: a location in another Region fails its step.
 */
import { authorize } from "./authz.js";
import type { AutomationExecutionRecord, StepExecutionRecord } from "./automation-engine.js";
import type { SandboxCore } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type { IssuedCredential } from "./iam-store.js";
import { assumeRoleAsService } from "./sts.js";

export const ADMINISTRATION_ROLE_NAME = "AWS-SystemsManager-AutomationAdministrationRole";
export const DEFAULT_EXECUTION_ROLE_NAME = "AWS-SystemsManager-AutomationExecutionRole";

export interface TargetLocation {
  Accounts: string[];
  Regions: string[];
  ExecutionRoleName?: string;
  TargetLocationMaxConcurrency?: string;
  TargetLocationMaxErrors?: string;
}

export interface ChildLaunch {
  parent: AutomationExecutionRecord;
  accountId: string;
  credential: IssuedCredential;
  /** A fresh session of the execution role, trust and identity policy evaluated again. */
  credentialSource: () => Promise<IssuedCredential>;
}

const TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut"]);

function invalid(message: string): AwsServiceError {
  return new AwsServiceError("ValidationException", message, 400);
}

/** TargetLocations as the API reference constrains them ("TargetLocation" data type). */
export function parseTargetLocations(value: unknown, defaultRegion: string): TargetLocation[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 100) {
    throw invalid("TargetLocations must be a list of 1 to 100 locations");
  }
  return value.map((raw, i) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw invalid(`TargetLocations[${i}] must be a map`);
    const loc = raw as Record<string, unknown>;
    for (const key of Object.keys(loc)) {
      if (
        ![
          "Accounts",
          "Regions",
          "ExecutionRoleName",
          "TargetLocationMaxConcurrency",
          "TargetLocationMaxErrors",
        ].includes(key)
      ) {
        throw invalid(`TargetLocations[${i}].${key} is not supported by the sandbox`);
      }
    }
    const list = (key: string): string[] => {
      const v = loc[key];
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.length > 50 || !v.every((x) => typeof x === "string")) {
        throw invalid(`TargetLocations[${i}].${key} must be a list of at most 50 strings`);
      }
      return v as string[];
    };
    const accounts = list("Accounts");
    for (const a of accounts) {
      // OUs (ou-…) need Organizations' ListAccountsForParent; the sandbox targets accounts by id.
      if (!/^\d{12}$/.test(a)) throw invalid(`TargetLocations[${i}].Accounts: '${a}' is not a 12-digit account id`);
    }
    if (accounts.length === 0) throw invalid(`TargetLocations[${i}].Accounts must not be empty`);
    const regions = list("Regions");
    const role = loc.ExecutionRoleName;
    if (role !== undefined && (typeof role !== "string" || !/^[\w+=,.@/-]{1,64}$/.test(role))) {
      throw invalid(`TargetLocations[${i}].ExecutionRoleName must match [\\w+=,.@/-]{1,64}`);
    }
    return {
      Accounts: accounts,
      Regions: regions.length > 0 ? regions : [defaultRegion],
      ...(role !== undefined ? { ExecutionRoleName: role as string } : {}),
      ...(typeof loc.TargetLocationMaxConcurrency === "string"
        ? { TargetLocationMaxConcurrency: loc.TargetLocationMaxConcurrency }
        : {}),
      ...(typeof loc.TargetLocationMaxErrors === "string"
        ? { TargetLocationMaxErrors: loc.TargetLocationMaxErrors }
        : {}),
    };
  });
}

export interface CrossAccountDeps {
  core: SandboxCore;
  executions: Map<string, AutomationExecutionRecord>;
  startChild(child: ChildLaunch): Promise<AutomationExecutionRecord>;
}

const idleSignal = new WeakMap<AutomationExecutionRecord, () => void>();

/** Runs a multi-account parent: assumes the roles, starts the children, aggregates their status. */
export function startCrossAccountExecution(parent: AutomationExecutionRecord, deps: CrossAccountDeps): void {
  parent.done = new Promise<void>((resolve) => idleSignal.set(parent, resolve));
  parent.childExecutionIds = [];
  setImmediate(() => {
    run(parent, deps).then(
      () => idleSignal.get(parent)?.(),
      (err: unknown) => {
        parent.status = "Failed";
        parent.failureMessage = `Internal sandbox error: ${(err as Error).message}`;
        parent.endTime = deps.core.clock.now();
        idleSignal.get(parent)?.();
      },
    );
  });
}

async function run(parent: AutomationExecutionRecord, deps: CrossAccountDeps): Promise<void> {
  const { core } = deps;
  const central = parent.accountId;
  parent.status = "InProgress";
  try {
    // Fails early (and the parent with it) when the administration role is missing or untrusting.
    assumeRoleAsService(core, {
      roleArn: `arn:aws:iam::${central}:role/${ADMINISTRATION_ROLE_NAME}`,
      servicePrincipal: "ssm.amazonaws.com",
      sourceAccount: central,
      sourceArn: `arn:aws:ssm:${core.region}:${central}:automation-execution/${parent.id}`,
      sessionName: parent.id,
    });
  } catch (err) {
    parent.status = "Failed";
    parent.failureMessage = `Automation could not assume ${ADMINISTRATION_ROLE_NAME} in ${central}: ${(err as Error).message}`;
    parent.endTime = core.clock.now();
    return;
  }
  const children: { record: StepExecutionRecord; child?: AutomationExecutionRecord }[] = [];
  for (const location of parent.targetLocations ?? []) {
    const roleName = location.ExecutionRoleName ?? DEFAULT_EXECUTION_ROLE_NAME;
    for (const accountId of location.Accounts) {
      for (const region of location.Regions) {
        const record: StepExecutionRecord = {
          StepName: `${accountId}:${region}`,
          Action: "aws:executeAutomation",
          OnFailure: "Abort",
          MaxAttempts: 1,
          ExecutionStartTime: core.clock.now(),
          StepStatus: "InProgress",
          StepExecutionId: crypto.randomUUID(),
          IsEnd: false,
          IsCritical: true,
        };
        (record as StepExecutionRecord & { TargetLocation?: unknown }).TargetLocation = {
          Accounts: [accountId],
          Regions: [region],
          ExecutionRoleName: roleName,
        };
        parent.steps.push(record);
        const fail = (message: string) => {
          record.StepStatus = "Failed";
          record.FailureMessage = message;
          record.ExecutionEndTime = core.clock.now();
        };
        if (region !== core.region) {
          fail(`Region ${region} is not served by the sandbox (only ${core.region})`);
          children.push({ record });
          continue;
        }
        const roleArn = `arn:aws:iam::${accountId}:role/${roleName}`;
        const assumeExecutionRole = async (): Promise<IssuedCredential> => {
          // The administration role's session too is minted afresh: Automation assumes it per use.
          const adminNow = assumeRoleAsService(core, {
            roleArn: `arn:aws:iam::${central}:role/${ADMINISTRATION_ROLE_NAME}`,
            servicePrincipal: "ssm.amazonaws.com",
            sourceAccount: central,
            sourceArn: `arn:aws:ssm:${core.region}:${central}:automation-execution/${parent.id}`,
            sessionName: parent.id,
          });
          const role = core.store.roleByArn(roleArn);
          const decision = await authorize({
            principal: adminNow.principal,
            action: "sts:AssumeRole",
            resource: roleArn,
            resourceAccountId: accountId,
            now: core.clock.now(),
            region: core.region,
            extraContext: { "sts:RoleSessionName": parent.id },
            resourcePolicy: role ? JSON.parse(role.assumeRolePolicyDocument) : { Version: "2012-10-17", Statement: [] },
          });
          if (!role || !decision.allowed) {
            throw new Error(
              `${adminNow.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}${decision.allowed ? " (no such role)" : ` ${decision.reason}`}`,
            );
          }
          return core.store.issueRoleSession(role, parent.id, 3600);
        };
        let session: IssuedCredential;
        try {
          session = await assumeExecutionRole();
        } catch (err) {
          fail((err as Error).message);
          children.push({ record });
          continue;
        }
        try {
          const child = await deps.startChild({
            parent,
            accountId,
            credential: session,
            credentialSource: assumeExecutionRole,
          });
          parent.childExecutionIds?.push(child.id);
          record.Outputs = { ExecutionId: [child.id] };
          children.push({ record, child });
        } catch (err) {
          fail((err as Error).message);
          children.push({ record });
        }
      }
    }
  }
  // Idle (its `done` resolves) whenever every child is idle; finished when all have ended.
  for (;;) {
    await Promise.all(children.map((c) => c.child?.done));
    for (const c of children) {
      if (!c.child || !TERMINAL.has(c.child.status)) continue;
      if (c.record.StepStatus === "InProgress") {
        c.record.StepStatus = c.child.status === "Success" ? "Success" : "Failed";
        c.record.ExecutionEndTime = c.child.endTime ?? core.clock.now();
        c.record.Outputs = { ExecutionId: [c.child.id], Status: [c.child.status] };
        if (c.child.status !== "Success") c.record.FailureMessage = c.child.failureMessage ?? c.child.status;
      }
    }
    if (children.every((c) => c.record.StepStatus !== "InProgress")) break;
    idleSignal.get(parent)?.();
    await new Promise<void>((r) => setTimeout(r, 20).unref());
    parent.done = new Promise<void>((resolve) => idleSignal.set(parent, resolve));
  }
  const failed = children.filter((c) => c.record.StepStatus !== "Success");
  parent.status = failed.length === 0 ? "Success" : "Failed";
  if (failed.length > 0) {
    parent.failureMessage = failed
      .map((c) => `${c.record.StepName}: ${c.record.FailureMessage ?? "failed"}`)
      .join("; ");
  }
  parent.endTime = core.clock.now();
}
