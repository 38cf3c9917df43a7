/**
 * src/domain/ceiling.ts: the stack's grant ceiling as the deployed Elevate-Grant
 * carries it, read the way its checkCeiling script reads it, and the refusal
 * messages that name the stack parameter to update.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planDeployment } from "../../sandbox/cfn/deploy.js";
import { ceilingFromDocument, ceilingRefusal, parseGrantableRoles } from "../../src/domain/ceiling.js";

const ROLE = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const OTHER = "arn:aws:iam::123456789012:role/prod-admin";
const HOUR = 3_600_000;

/** The Elevate-Grant content a stack deploys with these GrantableRoles. */
function deployedGrantDocument(grantableRoles: string): unknown {
  const plan = planDeployment({
    template: readFileSync("infra/template.yaml", "utf8"),
    parameters: { GitHubOwner: "acme", GitHubRepo: "elevate", GitHubRepoId: "1", GrantableRoles: grantableRoles },
    accountId: "123456789012",
    region: "ap-northeast-1",
  });
  const doc = plan.resources.find((r) => r.logicalId === "GrantDocument");
  // What GetDocument returns: CloudFormation stored the object Content as JSON.
  return JSON.parse(JSON.stringify(doc?.properties.Content));
}

describe("ceilingFromDocument", () => {
  it("reads the GrantableRoles the template resolved into the deployed runbook", () => {
    const read = ceilingFromDocument(deployedGrantDocument(`${ROLE}=2h, ${OTHER}=30m`));
    expect(read).toEqual({
      ok: true,
      ceiling: {
        roles: new Map([
          [ROLE, 2 * HOUR],
          [OTHER, HOUR / 2],
        ]),
      },
    });
  });

  it("an empty catalog allows nothing", () => {
    expect(ceilingFromDocument(deployedGrantDocument(""))).toEqual({ ok: true, ceiling: { roles: new Map() } });
  });

  it("says so for a runbook from before the ceiling (no checkCeiling step)", () => {
    const read = ceilingFromDocument({ schemaVersion: "0.3", mainSteps: [{ name: "putGrantPolicy" }] });
    expect(read).toMatchObject({ ok: false, message: expect.stringMatching(/no checkCeiling step.*update the stack/) });
    expect(ceilingFromDocument("not a document")).toMatchObject({ ok: false });
  });
});

describe("parseGrantableRoles", () => {
  it("takes the longest maximum of a role listed twice", () => {
    expect(parseGrantableRoles(`${ROLE}=1h,${ROLE}=90m`)).toEqual({
      ok: true,
      ceiling: { roles: new Map([[ROLE, 1.5 * HOUR]]) },
    });
  });

  it.each([ROLE, `${ROLE}=`, `${ROLE}=2d`, "role/x=2h", "*=2h"])(
    "names the parameter for a malformed entry %j",
    (entry) => {
      expect(parseGrantableRoles(entry)).toMatchObject({
        ok: false,
        message: expect.stringMatching(/stack parameter GrantableRoles has an entry/),
      });
    },
  );
});

describe("ceilingRefusal", () => {
  const ceiling = { roles: new Map([[ROLE, 2 * HOUR]]) };
  const window = (hours: number) => ({
    notBefore: "2026-11-30T09:00:00Z",
    notAfter: new Date(Date.parse("2026-11-30T09:00:00Z") + hours * HOUR).toISOString().replace(".000Z", "Z"),
  });

  it("allows a catalog role up to its maximum", () => {
    expect(ceilingRefusal(ceiling, { roleArn: ROLE, ...window(2) }, "ec2-admin")).toBeUndefined();
  });

  it("refuses a role outside the catalog, naming GrantableRoles and the entry to add", () => {
    expect(ceilingRefusal(ceiling, { roleArn: OTHER, ...window(1) }, "prod-admin")).toBe(
      `role prod-admin (${OTHER}) is not in the AWS stack's grant catalog, so the grant runbook would refuse it: add "${OTHER}=1h" to the stack parameter GrantableRoles and update the stack, or remove the role from the config. Nothing was started.`,
    );
  });

  it("refuses a window over the role's maximum, naming GrantableRoles and the config key", () => {
    expect(ceilingRefusal(ceiling, { roleArn: ROLE, ...window(2.5) }, "ec2-admin")).toBe(
      `the window 2026-11-30T09:00:00Z – 2026-11-30T11:30:00Z is 2h30m long, but the stack parameter GrantableRoles allows at most 2h for ${ROLE}, so the grant runbook would refuse it: raise it there ("${ROLE}=2h30m") and update the stack, or lower roles.ec2-admin.maxDuration in the config. Nothing was started.`,
    );
  });
});
