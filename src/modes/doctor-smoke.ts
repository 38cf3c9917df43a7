/**
 * `elevate doctor --smoke`: one real grant → assume → revoke round trip on the stack's
 * canary (CreateSmokeTestCanary), with the operator's AWS credentials (default chain),
 * cleaning up after itself whatever happened. The decisions (names, window,
 * parameters, findings) are src/domain/doctor-smoke.ts; this module makes the calls.
 *
 * Operator calls: sts:GetCallerIdentity; ssm:StartAutomationExecution on the grant and
 * revoke runbooks and ssm:GetAutomationExecution; iam:PassRole on the automation role;
 * iam:CreateAccessKey, iam:DeleteAccessKey and iam:DeleteUserPolicy on the canary user;
 * scheduler:DeleteSchedule in Elevate's schedule group. The canary's own calls (with a
 * temporary access key): sts:AssumeRole on the canary role, then sts:GetCallerIdentity.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { DeleteScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { GetAutomationExecutionCommand, SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { AwsClock, observeAwsTime } from "../adapters/aws-clock.js";
import {
  expectedSessionArn,
  grantParameters,
  isAccessDenied,
  revokeParameters,
  SMOKE_WINDOW_SECONDS,
  type SmokeGrant,
  type SmokeStep,
  type SmokeTarget,
  smokeGrant,
} from "../domain/doctor-smoke.js";

/** How long IAM may take to make a new access key, a new grant or a deleted one felt (eventual consistency). */
const PROPAGATION_MS = 60_000;
const RETRY_MS = 2_000;
const EXECUTION_TIMEOUT_MS = 5 * 60_000;
const POLL_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function awsError(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? "Error"}: ${e.message ?? String(error)}`;
}

/** Starts one runbook ($LATEST) and waits for it to end; throws with its status and failure message unless Success. */
async function runRunbook(ssm: SSMClient, document: string, parameters: Record<string, string[]>): Promise<string> {
  const started = await ssm.send(
    new StartAutomationExecutionCommand({ DocumentName: document, DocumentVersion: "$LATEST", Parameters: parameters }),
  );
  const id = started.AutomationExecutionId;
  if (!id) throw new Error(`StartAutomationExecution of ${document} returned no id`);
  const deadline = Date.now() + EXECUTION_TIMEOUT_MS;
  for (;;) {
    const { AutomationExecution: run } = await ssm.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: id }),
    );
    const status = run?.AutomationExecutionStatus;
    if (status === "Success") return id;
    if (status && !["Pending", "InProgress", "Waiting", "Cancelling"].includes(status)) {
      throw new Error(`execution ${id} ended ${status}${run?.FailureMessage ? `: ${run.FailureMessage}` : ""}`);
    }
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${status ?? "unknown"} after 5 minutes`);
    await sleep(POLL_MS);
  }
}

export interface SmokeOptions {
  region: string;
  /** Called as each step ends, for progress lines. */
  onStep?: (step: SmokeStep) => void;
}

export async function runSmokeTest(target: SmokeTarget, options: SmokeOptions): Promise<SmokeStep[]> {
  const { region } = options;
  const steps: SmokeStep[] = [];
  const record = (step: string, outcome: SmokeStep["outcome"], detail = "") => {
    const s = { step, outcome, detail };
    steps.push(s);
    options.onStep?.(s);
    return outcome === "pass";
  };
  /** Runs `body` as step `name`; true when it passed. */
  const step = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    try {
      return record(name, "pass", await body());
    } catch (error) {
      return record(name, "fail", error instanceof Error && !("$metadata" in error) ? error.message : awsError(error));
    }
  };
  const clock = new AwsClock();
  const iam = new IAMClient({ region });
  const ssm = new SSMClient({ region });
  const sts = new STSClient({ region });
  const scheduler = new SchedulerClient({ region });
  for (const client of [iam, ssm, sts, scheduler]) observeAwsTime(client, clock);
  let canarySts: STSClient | undefined;
  let accessKeyId: string | undefined;
  let grant: SmokeGrant | undefined;
  let granted = false;
  try {
    const ok = await step("operator credentials", async () => {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      return `${me.Arn ?? "?"} (AWS clock read: ${clock.now().toISOString()})`;
    });
    if (!ok) return steps;
    grant = smokeGrant(clock.now());
    const g = grant;
    granted = await step(
      `grant ${target.roleArn} to ${target.userName} for 15m (${target.grantDocument})`,
      async () => {
        const id = await runRunbook(ssm, target.grantDocument, grantParameters(target, g));
        return `execution ${id}, policy elevate-${g.requestId}, ${g.notBefore} – ${g.notAfter}`;
      },
    );
    let assumed = false;
    if (granted) {
      const keyed = await step(`temporary access key for ${target.userName}`, async () => {
        const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: target.userName }));
        if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error("CreateAccessKey returned no key");
        accessKeyId = AccessKey.AccessKeyId;
        canarySts = new STSClient({
          region,
          credentials: { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey },
        });
        return AccessKey.AccessKeyId;
      });
      if (keyed && canarySts) {
        const userSts = canarySts;
        assumed = await step(`assume ${target.roleArn} as ${target.userName}, session name ${target.userName}`, () =>
          assumeAndIdentify(userSts, target, region),
        );
      }
    } else {
      record(`assume ${target.roleArn} as ${target.userName}`, "skipped", "the grant failed");
    }
    const revoked = await step(`revoke the grant (${target.revokeDocument})`, async () => {
      const id = await runRunbook(ssm, target.revokeDocument, revokeParameters(target, g, clock.now()));
      return `execution ${id}`;
    });
    if (revoked && assumed && canarySts) {
      const userSts = canarySts;
      await step(`assume ${target.roleArn} again after the revoke (must be denied)`, () =>
        expectDenied(userSts, target),
      );
    }
    return steps;
  } finally {
    if (accessKeyId) {
      const id = accessKeyId;
      await step(`clean up: delete access key ${id}`, async () => {
        await iam.send(new DeleteAccessKeyCommand({ UserName: target.userName, AccessKeyId: id }));
        return "deleted";
      });
    }
    if (grant) {
      const g = grant;
      await step(`clean up: grant policy elevate-${g.requestId}`, async () =>
        gone(() =>
          iam.send(new DeleteUserPolicyCommand({ UserName: target.userName, PolicyName: `elevate-${g.requestId}` })),
        ),
      );
      await step(`clean up: expiry schedule ${target.scheduleGroup}/${g.requestId}`, async () =>
        gone(() => scheduler.send(new DeleteScheduleCommand({ GroupName: target.scheduleGroup, Name: g.requestId }))),
      );
    }
    canarySts?.destroy();
    for (const client of [iam, ssm, sts, scheduler]) client.destroy();
  }
}

/** Deletes something the revoke should already have removed: "absent" is the good outcome. */
async function gone(remove: () => Promise<unknown>): Promise<string> {
  try {
    await remove();
    return "was still there; deleted";
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return "absent";
    if (
      (error as { name?: string }).name === "NoSuchEntityException" ||
      (error as { name?: string }).name === "NoSuchEntity"
    )
      return "absent";
    throw error;
  }
}

/** AssumeRole as the canary (retrying while IAM propagates the new key and grant), then GetCallerIdentity as the role. */
async function assumeAndIdentify(userSts: STSClient, target: SmokeTarget, region: string): Promise<string> {
  const deadline = Date.now() + PROPAGATION_MS;
  for (;;) {
    try {
      const { Credentials: c } = await userSts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          RoleSessionName: target.userName,
          DurationSeconds: SMOKE_WINDOW_SECONDS,
        }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
      const roleSts = new STSClient({
        region,
        credentials: {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken ?? "",
        },
      });
      try {
        const me = await roleSts.send(new GetCallerIdentityCommand({}));
        if (!me.Arn || !expectedSessionArn(target).test(me.Arn)) {
          throw new Error(`GetCallerIdentity as the role returned ${me.Arn ?? "no ARN"}, not the canary session`);
        }
        return `GetCallerIdentity: ${me.Arn}`;
      } finally {
        roleSts.destroy();
      }
    } catch (error) {
      const name = (error as { name?: string }).name;
      const propagating = name === "InvalidClientTokenId" || isAccessDenied(name);
      if (!propagating || Date.now() > deadline) throw error;
      await sleep(RETRY_MS);
    }
  }
}

/** After the revoke the canary's assume must be denied (retrying while IAM propagates the deleted policy). */
async function expectDenied(userSts: STSClient, target: SmokeTarget): Promise<string> {
  const deadline = Date.now() + PROPAGATION_MS;
  for (;;) {
    try {
      await userSts.send(
        new AssumeRoleCommand({ RoleArn: target.roleArn, RoleSessionName: target.userName, DurationSeconds: 900 }),
      );
    } catch (error) {
      if (isAccessDenied((error as { name?: string }).name)) return `denied (${awsError(error)})`;
      throw error;
    }
    if (Date.now() > deadline)
      throw new Error("AssumeRole still succeeds 60 s after the revoke: the grant is not closed");
    await sleep(RETRY_MS);
  }
}
