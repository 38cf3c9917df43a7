// Requests for permission-set roles: validation (the requester's identity of the right kind),
// the plan (window, cap, runbook parameters), `elevate validate` / `elevate plan` for both kinds.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/domain/config.js";
import {
  accessPortalUrl,
  buildPermissionSetPlan,
  permissionSetGrantParameters,
  ssoProfileSnippet,
} from "../../src/domain/permission-set-plan.js";
import { buildGrantPlan } from "../../src/domain/plan.js";
import { planText } from "../../src/domain/plan-text.js";
import { validateRequest } from "../../src/domain/request.js";
import { pullRequestBody } from "../../src/modes/request-pull-request.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { IC_CONFIG, IC_INSTANCE, IC_PERMISSION_SET, requestText } from "./domain-fixtures.js";

const config = (() => {
  const loaded = loadConfig(IC_CONFIG, "cfg.yml");
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
})();

const NOW = new Date("2026-11-30T08:00:00Z");
const PS_PATH = "requests/prod-admin/fix-prod-db.yaml";
const PS_REQUEST = {
  requester: "dora",
  role: "prod-admin",
  duration: "1h30m",
  reason: "Repair the prod database during INC-77",
};

function validate(fields: Record<string, string | undefined>, path = PS_PATH) {
  return validateRequest({ text: requestText(fields), path, config, now: NOW });
}

describe("validateRequest for both kinds", () => {
  it("a permission-set request resolves to its target and the requester's Identity Center user", () => {
    const { request, errors } = validate(PS_REQUEST);
    expect(errors).toEqual([]);
    expect(request).toMatchObject({
      id: "fix-prod-db",
      role: "prod-admin",
      access: {
        kind: "permissionSet",
        instanceArn: IC_INSTANCE,
        identityStoreId: "d-0123456789",
        permissionSetArn: IC_PERMISSION_SET,
        accountId: "210987654321",
        identityCenterUser: "dora@acme.com",
      },
      requester: "dora",
      durationMs: 5_400_000,
    });
    // Only the permission set's own fields: no role ARN, no IAM user.
    expect(Object.keys(request?.access ?? {}).sort()).toEqual([
      "accountId",
      "identityCenterUser",
      "identityStoreId",
      "instanceArn",
      "kind",
      "permissionSetArn",
    ]);
  });

  it("a permission-set role needs the requester's identityCenterUser: located at requester, naming users.<login>", () => {
    const { request, errors } = validate({ ...PS_REQUEST, requester: "alice" });
    expect(request).toBeUndefined();
    expect(errors).toEqual([
      {
        file: PS_PATH,
        line: 1,
        col: 12,
        message:
          'role "prod-admin" is an Identity Center permission set, but users.alice has no identityCenterUser; ask the platform team to add the requester\'s Identity Center user name',
      },
    ]);
  });

  it("an IAM role needs the requester's iamUser: located at requester, naming users.<login>", () => {
    const { request, errors } = validate(
      { requester: "dora", role: "ec2-admin", duration: "1h", reason: "Resize the web ASG for INC-9" },
      "requests/ec2-admin/resize.yaml",
    );
    expect(request).toBeUndefined();
    expect(errors).toEqual([
      expect.objectContaining({
        line: 1,
        col: 12,
        message: expect.stringMatching(/role "ec2-admin" is an IAM role, but users\.dora has no iamUser/),
      }),
    ]);
  });

  it("a user with both identities may request either kind", () => {
    expect(validate({ ...PS_REQUEST, requester: "bob" }).request?.access).toMatchObject({
      kind: "permissionSet",
      identityCenterUser: "bob@acme.com",
    });
    const role = validate(
      { requester: "bob", role: "ec2-admin", duration: "1h", reason: "Resize the web ASG for INC-9" },
      "requests/ec2-admin/resize.yaml",
    );
    expect(role.request?.access).toMatchObject({ kind: "role", iamUser: "bob" });
  });

  it("the role's maxDuration holds for permission sets too", () => {
    const { errors } = validate({ ...PS_REQUEST, duration: "3h" });
    expect(errors.map((e) => e.message)).toEqual([
      'duration "3h" is longer than the maximum of 2h for role "prod-admin"',
    ]);
  });
});

describe("the permission-set plan", () => {
  const request = (() => {
    const r = validate({ ...PS_REQUEST, start: "2026-11-30T10:00:00Z" }).request;
    if (!r) throw new Error("fixture");
    return r;
  })();

  it("plans who, which permission set in which account, and the window from the merge or the start", () => {
    const early = buildPermissionSetPlan(request, config, new Date("2026-11-30T09:00:00.400Z"));
    expect(early).toEqual({
      ok: true,
      plan: {
        kind: "permissionSet",
        requestId: "fix-prod-db",
        identityCenterUser: "dora@acme.com",
        instanceArn: IC_INSTANCE,
        permissionSetArn: IC_PERMISSION_SET,
        accountId: "210987654321",
        notBefore: "2026-11-30T10:00:00Z",
        notAfter: "2026-11-30T11:30:00Z",
      },
    });
    const late = buildPermissionSetPlan(request, config, new Date("2026-11-30T10:30:00Z"));
    expect(late.ok && [late.plan.notBefore, late.plan.notAfter]).toEqual([
      "2026-11-30T10:30:00Z",
      "2026-11-30T12:00:00Z",
    ]);
  });

  it("an approver's cap ends the window earlier, never later, and never before it starts", () => {
    const merged = new Date("2026-11-30T10:00:00Z");
    const capped = buildPermissionSetPlan(request, config, merged, { capNotAfter: new Date("2026-11-30T10:45:00Z") });
    expect(capped.ok && capped.plan.notAfter).toBe("2026-11-30T10:45:00Z");
    const loose = buildPermissionSetPlan(request, config, merged, { capNotAfter: new Date("2026-12-01T00:00:00Z") });
    expect(loose.ok && loose.plan.notAfter).toBe("2026-11-30T11:30:00Z");
    const before = buildPermissionSetPlan(request, config, merged, { capNotAfter: new Date("2026-11-30T09:00:00Z") });
    expect(before).toEqual({ ok: false, message: expect.stringMatching(/cap ends the window before it starts/) });
  });

  it("refuses when the role or the user changed since validation", () => {
    const asRole = loadConfig(
      IC_CONFIG.replace(`permissionSet: ${IC_PERMISSION_SET}`, "arn: arn:aws:iam::210987654321:role/X").replace(
        '    account: "210987654321"\n',
        "",
      ),
      "cfg.yml",
    ).config;
    if (!asRole) throw new Error("fixture");
    expect(buildPermissionSetPlan(request, asRole, NOW)).toMatchObject({ ok: false });
    const renamed = loadConfig(IC_CONFIG.replace("dora@acme.com", "dora.x@acme.com"), "cfg.yml").config;
    if (!renamed) throw new Error("fixture");
    expect(buildPermissionSetPlan(request, renamed, NOW)).toEqual({
      ok: false,
      message: 'requester "dora" is not (or no longer) mapped to Identity Center user "dora@acme.com"',
    });
  });

  it("the IAM-role planner refuses a permission-set request instead of writing an IAM policy for it", () => {
    expect(buildGrantPlan(request, config, NOW)).toEqual({
      ok: false,
      message: expect.stringMatching(/is an Identity Center permission set, which Elevate-GrantPermissionSet assigns/),
    });
  });

  it("starts Elevate-GrantPermissionSet with exactly the contract's parameters", () => {
    const planned = buildPermissionSetPlan(request, config, new Date("2026-11-30T10:00:00Z"));
    if (!planned.ok) throw new Error(planned.message);
    expect(permissionSetGrantParameters(config, planned.plan)).toEqual({
      AutomationAssumeRole: "arn:aws:iam::123456789012:role/elevate-automation",
      RequestId: "fix-prod-db",
      UserName: "dora@acme.com",
      PermissionSetArn: IC_PERMISSION_SET,
      AccountId: "210987654321",
      NotBefore: "2026-11-30T10:00:00Z",
      NotAfter: "2026-11-30T11:30:00Z",
    });
  });

  it("the plan text says who, which permission set in which account, and the window", () => {
    const mergedAt = new Date("2026-11-30T09:00:00Z");
    const planned = buildPermissionSetPlan(request, config, mergedAt);
    if (!planned.ok) throw new Error(planned.message);
    const text = planText({ file: PS_PATH, plan: planned.plan, request, mergedAt });
    expect(text).toContain(
      `# grant fix-prod-db: Identity Center user dora@acme.com may use ${IC_PERMISSION_SET} in account 210987654321`,
    );
    expect(text).toMatch(/not before\s+= 2026-11-30T10:00:00Z {2}\(at the requested start\)/);
    expect(text).toMatch(/not after\s+= 2026-11-30T11:30:00Z {2}\(1h 30m later; a schedule deletes/);
    expect(text).toMatch(/runbook\s+= Elevate-GrantPermissionSet/);
    expect(text).toContain("Needs 1 approval from code owners of requests/prod-admin/");
  });

  it("how to use it: the access portal and an aws sso login profile", () => {
    expect(accessPortalUrl("d-0123456789")).toBe("https://d-0123456789.awsapps.com/start");
    expect(accessPortalUrl("01234567-89ab-cdef-0123-456789abcdef")).toBeUndefined();
    const snippet = ssoProfileSnippet({
      profile: "prod-admin",
      identityStoreId: "d-0123456789",
      region: "ap-northeast-1",
      accountId: "210987654321",
      permissionSetName: "ProdAdmin",
    });
    expect(snippet.split("\n")).toEqual([
      "[profile prod-admin]",
      "sso_session = elevate",
      "sso_account_id = 210987654321",
      "sso_role_name = ProdAdmin",
      "region = ap-northeast-1",
      "",
      "[sso-session elevate]",
      "sso_start_url = https://d-0123456789.awsapps.com/start",
      "sso_region = ap-northeast-1",
      "sso_registration_scopes = sso:account:access",
    ]);
  });
});

describe("elevate validate and plan, both kinds", () => {
  let repo: Repo;
  beforeEach(() => {
    repo = makeRepo({ config: IC_CONFIG });
    repo.write(PS_PATH, requestText(PS_REQUEST));
  });
  afterEach(() => repo.remove());

  it("validate says who may use which permission set in which account", async () => {
    const run = await runCli(["validate", PS_PATH], repo.root);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      `${PS_PATH}: ok: dora (Identity Center user dora@acme.com) may use permission set ${IC_PERMISSION_SET} in account 210987654321 for 1h30m; 1 approval(s) required\n`,
    );
    expect(run.code).toBe(0);
  });

  it("plan prints kind, the assignment, the window and the runbook start", async () => {
    const run = await runCli(["plan", "--merged-at", "2026-11-30T09:00:00Z", PS_PATH], repo.root);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(Object.keys(plan)).toEqual([
      "kind",
      "requestId",
      "identityCenterUser",
      "instanceArn",
      "permissionSetArn",
      "accountId",
      "notBefore",
      "notAfter",
      "runbook",
    ]);
    expect(plan).toEqual({
      kind: "permissionSet",
      requestId: "fix-prod-db",
      identityCenterUser: "dora@acme.com",
      instanceArn: IC_INSTANCE,
      permissionSetArn: IC_PERMISSION_SET,
      accountId: "210987654321",
      notBefore: "2026-11-30T09:00:00Z",
      notAfter: "2026-11-30T10:30:00Z",
      runbook: {
        document: "Elevate-GrantPermissionSet",
        parameters: {
          AutomationAssumeRole: "arn:aws:iam::123456789012:role/elevate-automation",
          RequestId: "fix-prod-db",
          UserName: "dora@acme.com",
          PermissionSetArn: IC_PERMISSION_SET,
          AccountId: "210987654321",
          NotBefore: "2026-11-30T09:00:00Z",
          NotAfter: "2026-11-30T10:30:00Z",
        },
      },
    });
  });

  it("validate refuses a permission-set request from a user with no Identity Center user, with its location", async () => {
    repo.write(PS_PATH, requestText({ ...PS_REQUEST, requester: "alice" }));
    const run = await runCli(["validate", PS_PATH], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${PS_PATH}:1:12: error: role "prod-admin" is an Identity Center permission set, but users.alice has no identityCenterUser`,
    );
  });
});

describe("elevate request's pull-request body names who gets what", () => {
  it("a permission set: the Identity Center user, the permission set and its account (never an empty IAM user)", () => {
    const { request } = validate(PS_REQUEST);
    if (!request) throw new Error("fixture request does not validate");
    const body = pullRequestBody({ repoPath: PS_PATH, fields: request, start: undefined });
    expect(body.split("\n")[0]).toBe(
      `Temporary access to role \`prod-admin\` for 1h30m as Identity Center user \`dora@acme.com\` (permission set \`${IC_PERMISSION_SET}\` in account 210987654321).`,
    );
    expect(body).not.toContain("IAM user");
  });

  it("an IAM role: the IAM user, as before", () => {
    const { request } = validate(
      { requester: "bob", role: "ec2-admin", duration: "1h", reason: "Resize the web ASG" },
      "requests/ec2-admin/resize.yaml",
    );
    if (!request) throw new Error("fixture request does not validate");
    const body = pullRequestBody({
      repoPath: "requests/ec2-admin/resize.yaml",
      fields: request,
      start: "2026-12-01T09:00:00Z",
    });
    expect(body.split("\n")[0]).toBe("Temporary access to role `ec2-admin` for 1h as IAM user `bob`.");
    expect(body).toContain("- Start: 2026-12-01T09:00:00Z");
  });
});
