/**
 * Elevate-RevokePermissionSet's revoke script (infra/runbooks/elevate-revoke-permission-set.yaml),
 * run with python3 and boto3 against the sandbox's Identity Center, as the Automation engine
 * runs it. Two revokes of the same user, permission set and account (both request files
 * deleted in one push, or an early revoke racing the other grant's end) can both find the
 * assignment and both delete it. The later one must end with the assignment gone and the
 * step succeeded ("AlreadyAbsent"), not fail with the first one's ResourceNotFoundException;
 * any other failure (AccessDenied, a deletion that failed while the assignment is still
 * there) still fails the step.
 *
 * The interleaving is forced, not hoped for: the first deletion is started in the sandbox and
 * held IN_PROGRESS, the script's own DeleteAccountAssignment gets ConflictException and backs
 * off (1 s), and only then does the first deletion complete.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import type { AccountAssignment, PermissionSet } from "../../sandbox/aws/identity-center.js";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/server.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";

const HUB = "123456789012";
const MEMBER = "210987654321";

const inputs = runbookScriptStep("infra/runbooks/elevate-revoke-permission-set.yaml", "revoke");

let sandbox: AwsSandbox;
let permissionSet: PermissionSet;
let assignment: AccountAssignment;

beforeAll(async () => {
  sandbox = await startAwsSandbox({ region: "ap-northeast-1", accountIds: [HUB, MEMBER] });
  const ic = sandbox.state.identityCenter;
  const user = ic.createUser("dave@acme.com");
  permissionSet = ic.createPermissionSet({ name: "ProdAdmin" });
  assignment = {
    accountId: MEMBER,
    permissionSetArn: permissionSet.arn,
    principalType: "USER",
    principalId: user.userId,
  };
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

const assigned = () => sandbox.state.identityCenter.hasAssignment("dave@acme.com", MEMBER, permissionSet.arn);

function assign(): void {
  const ic = sandbox.state.identityCenter;
  ic.knobs.statusPolls = 0;
  ic.startOperation("create", assignment);
  expect(assigned()).toBe(true);
}

function revokeScript(requestId: string, credentials: Credentials = sandbox.rootCredentials) {
  const credential = credentials;
  const ic = sandbox.state.identityCenter;
  return runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload: {
      RequestId: requestId,
      UserName: "dave@acme.com",
      PermissionSetArn: permissionSet.arn,
      AccountId: MEMBER,
      InstanceArn: ic.instanceArn,
      IdentityStoreId: ic.identityStoreId,
      GrantablePermissionSets: `${permissionSet.arn}@${MEMBER}=PT4H`,
    },
    now: sandbox.clock.now(),
    timeoutSeconds: 90,
    aws: { credential, endpoint: sandbox.endpoint, region: sandbox.region },
  });
}

/** Resolves once the sandbox has answered a DeleteAccountAssignment with `outcome`. */
async function deleteAnswered(outcome: string, since: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (sandbox.callLog.slice(since).some((c) => c.action === "DeleteAccountAssignment" && c.outcome === outcome)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no DeleteAccountAssignment answered ${outcome}`);
}

describe("two revokes delete the same assignment", () => {
  it("the later one finds it gone: the step succeeds with AlreadyAbsent", async () => {
    assign();
    const ic = sandbox.state.identityCenter;
    // The other revoke's deletion, held in progress until the script has collided with it.
    ic.knobs.statusPolls = 1_000;
    const other = ic.startOperation("delete", assignment);
    const since = sandbox.callLog.length;
    const script = revokeScript("dave-a");
    await deleteAnswered("ConflictException", since);
    ic.settle();
    expect(other.status).toBe("SUCCEEDED");
    expect(assigned()).toBe(false);
    const result = await script;
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ Outcome: "AlreadyAbsent", CoveringRequests: "" });
    // It did collide, then found the assignment gone, rather than finding it absent from the start.
    const deletes = sandbox.callLog.slice(since).filter((c) => c.action === "DeleteAccountAssignment");
    expect(deletes.map((c) => c.outcome)).toEqual(["ConflictException", "ResourceNotFoundException"]);
  }, 120_000);

  it("a deletion that ends FAILED while the assignment is still there fails the step", async () => {
    const ic = sandbox.state.identityCenter;
    ic.knobs.statusPolls = 0;
    assign();
    ic.knobs.failNextOperation("delete", "Internal failure provisioning the account");
    const result = await revokeScript("dave-b");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/delete of the assignment .* ended FAILED: Internal failure/);
    expect(assigned()).toBe(true);
  }, 120_000);

  it("AccessDenied on the deletion fails the step (never taken for 'already gone')", async () => {
    expect(assigned()).toBe(true);
    sandbox.knobs.failNext("DeleteAccountAssignment", "AccessDeniedException");
    const result = await revokeScript("dave-c");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/AccessDenied/);
    expect(assigned()).toBe(true);
  }, 120_000);

  it("with nothing in the way it deletes the assignment (Deleted)", async () => {
    expect(assigned()).toBe(true);
    const result = await revokeScript("dave-d");
    expect(result.ErrorType, String(result.ErrorMessage)).toBeUndefined();
    expect(result.Payload).toEqual({ Outcome: "Deleted", CoveringRequests: "" });
    expect(assigned()).toBe(false);
  }, 120_000);
});
