/**
 * The Elevate SSM Automation runbooks (infra/runbooks/*.yaml): structure,
 * parameter constraints, and byte-for-byte agreement of the policies they
 * build with src/domain/grant-policy.ts.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import {
  parseRunbook,
  type Runbook,
  renderRunbookParameters,
  renderStepInputs,
  runbookPlaceholders,
  validateRunbookParameters,
} from "../../sandbox/cfn/runbook.js";
import { parseTemplate } from "../../sandbox/cfn/template.js";
import { cutoffPolicyText, grantPolicyText } from "../../src/domain/grant-policy.js";

const FILES = {
  grant: "infra/runbooks/elevate-grant.yaml",
  revoke: "infra/runbooks/elevate-revoke.yaml",
  clearCutoff: "infra/runbooks/elevate-clear-cutoff.yaml",
  expireGrant: "infra/runbooks/elevate-expire-grant.yaml",
} as const;

const runbooks = Object.fromEntries(
  Object.entries(FILES).map(([key, path]) => [key, parseRunbook(readFileSync(path, "utf8"), path)]),
) as Record<keyof typeof FILES, Runbook>;

const ROLE = "arn:aws:iam::123456789012:role/elevate-automation";

function step(runbook: Runbook, name: string) {
  const found = runbook.mainSteps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

const VALID: Record<string, string[]> = {
  AutomationAssumeRole: [ROLE, "arn:aws:iam::210987654321:role/service-role/elevate.automation"],
  RequestId: ["abc", "inc-1234-resize-asg", `a${"b".repeat(62)}`],
  UserName: ["alice", "alice.smith", "bob+ops@example.com", "svc_user=1,x-y", "a".repeat(64)],
  RoleName: ["EC2_FullAccess_Role", "prod-admin", "a.b@c"],
  RoleArn: [
    "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
    "arn:aws:iam::123456789012:role/prod-admin",
    "arn:aws:iam::123456789012:role/a/b/c/Deep.Path_Role",
  ],
  NotBefore: ["2026-11-30T09:00:00Z"],
  NotAfter: ["2026-11-30T11:30:00Z"],
  RevokedAt: ["2026-11-30T10:15:07Z"],
  CutOff: ["true", "false"],
  StampAtRunTime: ["true", "false"],
  StampNotAfter: ["2026-11-30T11:00:00Z", "9999-12-31T23:59:59Z"],
  RoleAccountId: ["123456789012", "210987654321"],
  CoveringRequests: ["-", "debug-asg", "debug-asg,inc-1234-resize-asg"],
};

/** Values that would break out of a JSON string literal, widen a grant, or are simply not the thing. */
const HOSTILE_COMMON = [
  "",
  'alice"',
  '"}],"Effect":"Allow',
  'x"}],"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"a":"true',
  "alice\\",
  "alice\\u0022",
  "alice\n",
  "ali\nce",
  "alice\r",
  "alice\t",
  " alice",
  "alice ",
  "*",
  "alice*",
  "..",
  "{alice}",
  "[alice]",
  "{{ RoleArn }}",
  "аlice", // Cyrillic а
  "alicе", // Cyrillic е
  "ａｌｉｃｅ", // full-width
  "alice\u200b", // zero-width space
  "alice\u0000",
  "alice\u2028",
];

const HOSTILE: Record<string, string[]> = {
  AutomationAssumeRole: [
    "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::*:role/elevate-automation",
    "arn:aws:iam::123456789012:role/../admin",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::12345678901:role/x",
    // Commercial AWS only (docs/infra.md, "Partitions").
    "arn:aws-cn:iam::123456789012:role/elevate-automation",
    "arn:aws-us-gov:iam::123456789012:role/elevate-automation",
    `${ROLE}"`,
    `${ROLE}\n`,
  ],
  RequestId: ["ab", "-abc", "ABC", "abc_def", "abc.def", `a${"b".repeat(63)}`, "abc\n", "abc/def"],
  UserName: ["a".repeat(65), "alice/bob", "alice:x", "alice;x", "alice#", ".."],
  RoleName: ["a".repeat(65), "path/role", "role:x", ".."],
  RoleArn: [
    "arn:aws-cn:iam::123456789012:role/prod-admin",
    "arn:aws-us-gov:iam::123456789012:role/prod-admin",
    "arn:aws:iam::123456789012:role/*",
    "arn:aws:iam::123456789012:role/elevated/*",
    "arn:aws:iam::123456789012:role/Admin?",
    "arn:aws:iam::*:role/Admin",
    "arn:aws:iam::123456789012:role/../Admin",
    "arn:aws:iam::123456789012:role/./Admin",
    "arn:aws:iam::123456789012:role//Admin",
    "arn:aws:iam::123456789012:role/Admin/",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:sts::123456789012:assumed-role/Admin/x",
    'arn:aws:iam::123456789012:role/Admin"],"Resource":"*',
    "*",
  ],
  NotBefore: [
    "2026-11-30T09:00:00",
    "2026-11-30T09:00:00.000Z",
    "2026-11-30T09:00:00+09:00",
    "2026-11-30 09:00:00Z",
    "2026-11-30T09:00:00Z\n",
    "２０２６-11-30T09:00:00Z",
    '2026-11-30T09:00:00Z"}',
  ],
  CutOff: ["TRUE", "yes", "1", "true ", "true\n", 'false"}'],
  CoveringRequests: ["--", "-,abc", "abc,", ",abc", "abc,,def", "ab", "ABC", "abc def", 'abc"', "abc,-def", "*"],
};
HOSTILE.NotAfter = HOSTILE.NotBefore as string[];
HOSTILE.RevokedAt = HOSTILE.NotBefore as string[];
HOSTILE.StampNotAfter = HOSTILE.NotBefore as string[];
HOSTILE.StampAtRunTime = HOSTILE.CutOff as string[];
HOSTILE.RoleAccountId = ["12345678901", "1234567890123", "12345678901a", "arn:aws:iam::123456789012:root", "*"];

describe("runbook structure", () => {
  for (const [key, runbook] of Object.entries(runbooks)) {
    describe(FILES[key as keyof typeof FILES], () => {
      it("is an Automation document run by the AutomationAssumeRole parameter", () => {
        expect(runbook.schemaVersion).toBe("0.3");
        expect(runbook.assumeRole).toBe("{{ AutomationAssumeRole }}");
      });

      it("uses only aws:executeAwsApi (IAM), aws:branch and the known Python aws:executeScript steps", () => {
        // The scripts: Elevate-Grant's checkCeiling (first, before anything is written) and,
        // since issue 14, the expiry schedule (create, delete) and the AWS-side expiry, which
        // reads every grant of the user: they need loops and error codes that steps lack.
        // Revoke and ClearCutoff test list membership exactly (aws:branch has no such test).
        const scripts: Record<string, string[]> = {
          grant: ["checkCeiling", "scheduleExpiry"],
          // stampCutOff: the cut-off time on AWS's clock, right before the cut-off is written.
          // deleteGrantPolicy: a policy the grant's expiry deleted since the list is done.
          // putCutOffPolicy: reads the cut-off right before writing and keeps a later one.
          // decideCutOff: a covering grant that ended since the revoker's plan no longer covers.
          revoke: [
            "findGrantPolicy",
            "deleteGrantPolicy",
            "decideCutOff",
            "stampCutOff",
            "putCutOffPolicy",
            "deleteExpirySchedule",
          ],
          // clearCutOff: reads the cut-off again and deletes it only while it is old enough.
          clearCutoff: ["clearCutOff"],
          expireGrant: ["expireGrant"],
        };
        // Member-account cut-offs (issue 15): multi-account automation of the member runbooks.
        const crossAccount: Record<string, string[]> = {
          expireGrant: ["cutOffInMemberAccount", "scheduleMemberClear"],
          revoke: ["cutOffInMemberAccount", "scheduleMemberClear"],
        };
        for (const s of runbook.mainSteps) {
          expect([
            "aws:executeAwsApi",
            "aws:branch",
            "aws:executeScript",
            "aws:sleep",
            "aws:executeAutomation",
          ]).toContain(s.action);
          if (s.action === "aws:executeAutomation" || s.inputs.Service === "ssm") {
            expect(crossAccount[key] ?? [], `${key}: ${s.name}`).toContain(s.name);
            expect(s.inputs.DocumentName).toBe(
              s.action === "aws:executeAutomation" ? "Elevate-MemberCutoff" : "Elevate-MemberClearCutoff",
            );
            // Always in one account, the role's, through the member stack's execution role.
            const locations = s.inputs.TargetLocations as { Accounts: string[]; ExecutionRoleName: unknown }[];
            expect(locations).toHaveLength(1);
            expect(locations[0]?.Accounts).toHaveLength(1);
            expect(locations[0]?.ExecutionRoleName).toEqual({ Ref: "MemberExecutionRoleName" });
            continue;
          }
          // The one wait: Elevate-ExpireGrant, fired in the minute before NotAfter, waits for it.
          if (s.action === "aws:sleep") expect(`${key}.${s.name}`).toBe("expireGrant.waitForNotAfter");
          if (s.action === "aws:executeScript") {
            expect(scripts[key] ?? [], `${key}: ${s.name}`).toContain(s.name);
            if (s.name === "checkCeiling") expect(runbook.mainSteps.indexOf(s)).toBe(0);
            if (s.name === "stampCutOff") expect(s.nextStep).toBe("chooseCutOffAccount");
          }
          if (s.action === "aws:executeAwsApi") expect(s.inputs.Service).toBe("iam");
          if (s.action === "aws:executeScript") {
            expect(s.inputs.Runtime).toBe("python3.11");
            expect(typeof s.inputs.Script).toBe("string");
            expect(s.inputs.Script as string).toContain(`def ${String(s.inputs.Handler)}(events, context):`);
          }
          // No step may swallow a failure: only a missing policy is tolerated, by a list-then-branch.
          expect(s.onFailure).toBeUndefined();
        }
      });

      it("declares every parameter as an anchored, non-empty allowedPattern String", () => {
        const names = Object.keys(runbook.parameters);
        expect(names.length).toBeGreaterThan(0);
        for (const [name, spec] of Object.entries(runbook.parameters)) {
          expect(spec.type, name).toBe("String");
          expect(spec.allowedPattern, name).toMatch(/^\^.*\$$/);
          expect(spec.default, `${name} has no default: every call states every value`).toBeUndefined();
          // The empty string never passes.
          expect(new RegExp(spec.allowedPattern as string).test(""), name).toBe(false);
        }
      });

      it("only references declared parameters or outputs of earlier steps", () => {
        const declared = new Set(Object.keys(runbook.parameters));
        const seenSteps = new Map<string, Set<string>>();
        for (const s of runbook.mainSteps) {
          for (const ref of runbookPlaceholders(s.inputs)) {
            // Automation's built-in variables (global:ACCOUNT_ID, global:AWS_PARTITION, …).
            if (/^(global|automation):[A-Z_]+$/.test(ref)) continue;
            if (ref.includes(".")) {
              const [stepName, output] = ref.split(".") as [string, string];
              expect(seenSteps.get(stepName)?.has(output), `${s.name} -> ${ref}`).toBe(true);
            } else {
              expect(declared.has(ref), `${s.name} -> ${ref}`).toBe(true);
            }
          }
          seenSteps.set(s.name, new Set((s.outputs ?? []).map((o) => o.Name)));
        }
        for (const ref of runbookPlaceholders(runbook.assumeRole)) expect(declared.has(ref)).toBe(true);
      });

      it("every branch target and nextStep names a later step", () => {
        const names = runbook.mainSteps.map((s) => s.name);
        runbook.mainSteps.forEach((s, index) => {
          const targets: string[] = [];
          if (s.nextStep) targets.push(s.nextStep);
          if (s.action === "aws:branch") {
            const inputs = s.inputs as { Choices: { NextStep: string }[]; Default?: string };
            targets.push(...inputs.Choices.map((c) => c.NextStep));
            if (inputs.Default) targets.push(inputs.Default);
          }
          for (const target of targets) expect(names.indexOf(target), `${s.name} -> ${target}`).toBeGreaterThan(index);
        });
        expect(runbook.mainSteps.at(-1)?.isEnd).toBe(true);
      });
    });
  }
});

describe("repeatable AWS calls are retried by Automation (maxAttempts)", () => {
  // A throttled call that outlasts the SDK's own few retries would otherwise fail the whole
  // grant or revoke. Only calls that are safe to repeat get attempts: reads, and PutUserPolicy
  // (it replaces the policy of that name). StartAutomationExecution is not repeated: a retry
  // after a start that AWS took but did not answer would start a second run.
  const all = readdirSync("infra/runbooks")
    .filter((f) => f.endsWith(".yaml"))
    .map((file) => ({ file, runbook: parseRunbook(readFileSync(`infra/runbooks/${file}`, "utf8"), file) }));
  const calls = all.flatMap(({ file, runbook }) =>
    runbook.mainSteps
      .filter((s) => s.action === "aws:executeAwsApi")
      .map((s) => ({ step: `${file} ${s.name}`, api: String(s.inputs.Api), maxAttempts: s.maxAttempts })),
  );

  it("finds the runbooks' API steps (the check is not vacuous)", () => {
    expect(calls.map((c) => c.api)).toEqual(
      expect.arrayContaining(["PutUserPolicy", "ListUserPolicies", "StartAutomationExecution"]),
    );
  });

  it.each(calls)("$api ($step)", ({ api, maxAttempts }) => {
    if (/^(Get|List|Describe)/.test(api) || api === "PutUserPolicy") expect(maxAttempts).toBeGreaterThanOrEqual(3);
    else expect(maxAttempts ?? 1).toBe(1);
  });
});

describe("parameter patterns", () => {
  const allParameters = Object.values(runbooks).flatMap((r) => Object.entries(r.parameters));

  it("every parameter name has realistic and hostile samples in this test", () => {
    for (const [name] of allParameters) {
      expect(VALID[name], name).toBeDefined();
      expect(HOSTILE[name], name).toBeDefined();
    }
  });

  for (const [name, spec] of allParameters) {
    const pattern = new RegExp(spec.allowedPattern as string);
    it(`${name} accepts realistic values`, () => {
      for (const value of VALID[name] ?? []) expect(pattern.test(value), JSON.stringify(value)).toBe(true);
    });
    it(`${name} rejects hostile values`, () => {
      for (const value of [...HOSTILE_COMMON, ...(HOSTILE[name] ?? [])]) {
        expect(pattern.test(value), JSON.stringify(value)).toBe(false);
      }
    });
  }

  it("no accepted value can contain a character that ends or escapes a JSON string", () => {
    for (const [name, spec] of allParameters) {
      const pattern = new RegExp(spec.allowedPattern as string);
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 80 }), (value) => {
          if (!pattern.test(value)) return;
          // Outside printable ASCII (control, space, unicode) or a JSON/wildcard metacharacter.
          expect(value, name).not.toMatch(/["\\{}[\]*?]|[^\x21-\x7e]/);
        }),
        { numRuns: 300 },
      );
    }
  });

  it("validateRunbookParameters applies the patterns and rejects unknown or missing parameters", () => {
    const grant = runbooks.grant;
    const good = {
      AutomationAssumeRole: ROLE,
      RequestId: "inc-1234",
      UserName: "alice",
      RoleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      NotBefore: "2026-11-30T09:00:00Z",
      NotAfter: "2026-11-30T11:00:00Z",
    };
    expect(validateRunbookParameters(grant, good)).toEqual(good);
    expect(() => validateRunbookParameters(grant, { ...good, UserName: 'alice"' })).toThrow(/UserName/);
    expect(() => validateRunbookParameters(grant, { ...good, Extra: "x" })).toThrow(/Extra.*not declared/);
    const { NotAfter: _dropped, ...missing } = good;
    expect(() => validateRunbookParameters(grant, missing)).toThrow(/NotAfter.*required/);
    expect(() =>
      validateRunbookParameters(runbooks.revoke, {
        AutomationAssumeRole: ROLE,
        RequestId: "inc-1234",
        UserName: "alice",
        RoleName: "EC2_FullAccess_Role",
        CutOff: "maybe",
        RevokedAt: "2026-11-30T10:00:00Z",
      }),
    ).toThrow(/CutOff/);
  });
});

/** Arbitraries for valid parameter values, drawn from the same alphabets as the patterns. */
const nameChars = "ABCXYZabcxyz0189_+=,@-";
const arbName = fc
  .tuple(
    fc.constantFrom(...nameChars.split("")),
    fc.string({ unit: fc.constantFrom(...`${nameChars}.`.split("")), maxLength: 63 }),
  )
  .map(([head, tail]) => head + tail);
const arbRequestId = fc
  .tuple(
    fc.constantFrom(..."abz019".split("")),
    fc.string({ unit: fc.constantFrom(..."abz019-".split("")), minLength: 2, maxLength: 62 }),
  )
  .map(([head, tail]) => head + tail);
const arbRoleArn = fc
  .tuple(fc.constantFrom("aws"), fc.stringMatching(/^[0-9]{12}$/), fc.array(arbName, { maxLength: 3 }), arbName)
  .map(([partition, account, path, name]) => `arn:${partition}:iam::${account}:role/${[...path, name].join("/")}`);
const arbSecond = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
const iamTime = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

describe("Elevate-Grant renders exactly grantPolicyText", () => {
  const put = step(runbooks.grant, "putGrantPolicy");

  it("puts policy elevate-<RequestId> on UserName with the contract's bytes", () => {
    const values = validateRunbookParameters(runbooks.grant, {
      AutomationAssumeRole: ROLE,
      RequestId: "inc-1234-resize",
      UserName: "alice.smith",
      RoleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      NotBefore: "2026-11-30T09:00:00Z",
      NotAfter: "2026-11-30T11:00:00Z",
    });
    const inputs = renderStepInputs(put, values);
    expect(inputs).toEqual({
      Service: "iam",
      Api: "PutUserPolicy",
      UserName: "alice.smith",
      PolicyName: "elevate-inc-1234-resize",
      PolicyDocument: grantPolicyText({
        requestId: "inc-1234-resize",
        iamUser: "alice.smith",
        roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
        notBefore: new Date("2026-11-30T09:00:00Z"),
        notAfter: new Date("2026-11-30T11:00:00Z"),
      }),
    });
  });

  it("agrees with grantPolicyText for every valid parameter combination", () => {
    fc.assert(
      fc.property(arbRequestId, arbName, arbRoleArn, arbSecond, arbSecond, (requestId, user, roleArn, a, b) => {
        const values = validateRunbookParameters(runbooks.grant, {
          AutomationAssumeRole: ROLE,
          RequestId: requestId,
          UserName: user,
          RoleArn: roleArn,
          NotBefore: iamTime(a),
          NotAfter: iamTime(b),
        });
        const document = renderRunbookParameters(put.inputs.PolicyDocument as string, values);
        expect(document).toBe(grantPolicyText({ requestId, iamUser: user, roleArn, notBefore: a, notAfter: b }));
        // And it stays one JSON document with one statement whatever the values.
        expect(JSON.parse(document).Statement).toHaveLength(1);
      }),
      { numRuns: 400 },
    );
  });
});

describe("Elevate-Revoke", () => {
  const revoke = runbooks.revoke;

  it("deletes the grant policy only when ListUserPolicies shows it (NoSuchEntity never reached)", () => {
    const list = step(revoke, "listGrantPolicies");
    expect(list.inputs).toMatchObject({ Api: "ListUserPolicies", UserName: "{{ UserName }}" });
    expect(step(revoke, "findGrantPolicy").inputs).toMatchObject({
      Handler: "is_listed",
      InputPayload: { Name: "elevate-{{ RequestId }}", Names: "{{ listGrantPolicies.PolicyNames }}" },
    });
    const choose = step(revoke, "chooseDeleteGrant").inputs as { Choices: Record<string, unknown>[]; Default: string };
    // An exact test: no Contains (a substring test on strings, undocumented on a StringList).
    expect(choose.Choices).toEqual([
      { NextStep: "deleteGrantPolicy", Variable: "{{ findGrantPolicy.Listed }}", BooleanEquals: true },
    ]);
    expect(choose.Default).toBe("decideCutOff");
    // A script, so that a policy deleted since the list (the grant's expiry, another revoke) is
    // done, and every other error still fails the step.
    const del = step(revoke, "deleteGrantPolicy");
    expect(del.action).toBe("aws:executeScript");
    expect(del.inputs).toMatchObject({
      Handler: "delete_grant_policy",
      InputPayload: { UserName: "{{ UserName }}", PolicyName: "elevate-{{ RequestId }}" },
    });
    const script = String((del.inputs as { Script: string }).Script);
    expect(script).toContain('iam.delete_user_policy(UserName=events["UserName"], PolicyName=events["PolicyName"])');
    expect(script).toMatch(/if error\.response\["Error"\]\["Code"\] != "NoSuchEntity":\n\s+raise/);
    // The delete is reachable only through the branch: the step before it jumps elsewhere by default.
    const order = revoke.mainSteps.map((s) => s.name);
    expect(order.indexOf("deleteGrantPolicy")).toBe(order.indexOf("chooseDeleteGrant") + 1);
  });

  it("writes the cut-off only when CutOff is 'true', with cutoffPolicyText's bytes", () => {
    const choose = step(revoke, "chooseCutOff").inputs as { Choices: Record<string, string>[]; Default: string };
    // CutOff as decided after the grant policy is gone: the caller's, unless the grants that
    // covered the role have ended since (test/e2e/revoke-cover-race.test.ts).
    expect(choose.Choices).toEqual([
      { NextStep: "stampCutOff", Variable: "{{ decideCutOff.CutOff }}", StringEquals: "true" },
    ]);
    expect(step(revoke, "decideCutOff").inputs).toMatchObject({
      Handler: "decide_cutoff",
      InputPayload: {
        CutOff: "{{ CutOff }}",
        StampAtRunTime: "{{ StampAtRunTime }}",
        CoveringRequests: "{{ CoveringRequests }}",
        RoleName: "{{ RoleName }}",
        RoleAccountId: "{{ RoleAccountId }}",
      },
    });
    expect(choose.Default).not.toBe("putCutOffPolicy");
    expect(choose.Default).not.toBe("stampCutOff");
    // The time in the cut-off is the stamp step's output (AWS's clock), fed the three time parameters.
    expect(step(revoke, "stampCutOff").inputs.InputPayload).toEqual({
      RevokedAt: "{{ RevokedAt }}",
      StampAtRunTime: "{{ decideCutOff.StampAtRunTime }}",
      StampNotAfter: "{{ StampNotAfter }}",
    });
    expect(revoke.outputs).toContain("stampCutOff.RevokedAt");
    // The cut-off script writes the stamped time (or keeps a later cut-off); its bytes are
    // compared with cutoffPolicyText against the sandbox in test/e2e/revoke-cutoff-race.test.ts.
    const put = step(revoke, "putCutOffPolicy");
    expect(put.action).toBe("aws:executeScript");
    expect(put.inputs).toMatchObject({
      Handler: "put_cutoff",
      InputPayload: {
        UserName: "{{ UserName }}",
        RoleName: "{{ RoleName }}",
        RevokedAt: "{{ stampCutOff.RevokedAt }}",
      },
    });
  });
});

describe("Elevate-ClearCutoff", () => {
  it("decides from IAM when it runs: one script reads elevate-cutoff-<UserName> on RoleName again, then lists", () => {
    const clear = runbooks.clearCutoff;
    expect(clear.mainSteps.map((s) => s.name)).toEqual(["clearCutOff", "listRemainingPolicies"]);
    expect(step(clear, "clearCutOff").inputs).toMatchObject({
      Handler: "clear_cutoff",
      InputPayload: { UserName: "{{ UserName }}", RoleName: "{{ RoleName }}" },
    });
    expect(clear.outputs).toEqual(["clearCutOff.Outcome", "clearCutOff.Reason", "listRemainingPolicies.PolicyNames"]);
  });
});

describe("the exact membership test of Elevate-Revoke (is_listed)", () => {
  const scripts = [["Elevate-Revoke", step(runbooks.revoke, "findGrantPolicy")]] as const;
  const run = (script: (typeof scripts)[number][1], Name: string, Names: unknown) =>
    runPythonScript({
      script: script.inputs.Script as string,
      handler: script.inputs.Handler as string,
      payload: { Name, Names },
      now: new Date("2026-11-30T08:00:00Z"),
    });

  it.each(scripts)("%s: a whole name only, never a prefix, suffix or substring", async (_, script) => {
    expect(await run(script, "elevate-abc", ["elevate-abc"])).toEqual({ Payload: { listed: true } });
    expect(await run(script, "elevate-abc", ["other", "elevate-abc", "elevate-abc-2"])).toEqual({
      Payload: { listed: true },
    });
    for (const names of [["elevate-abc-2"], ["x-elevate-abc"], ["elevate-ab"], ["ELEVATE-ABC"], []]) {
      expect(await run(script, "elevate-abc", names)).toEqual({ Payload: { listed: false } });
    }
    // A list that arrives as JSON text is read as a list, not searched as a string.
    expect(await run(script, "elevate-abc", '["elevate-abc-2"]')).toEqual({ Payload: { listed: false } });
    expect(await run(script, "elevate-abc", '["elevate-abc"]')).toEqual({ Payload: { listed: true } });
    expect(await run(script, "elevate-abc", "elevate-abc-2")).toEqual({ Payload: { listed: false } });
    // Anything else fails the step.
    expect(await run(script, "elevate-abc", { a: 1 })).toMatchObject({ ErrorType: "TypeError" });
  });
});

describe("the template embeds the runbook files", () => {
  const template = parseTemplate(readFileSync("infra/template.yaml", "utf8"));
  const embedded: Record<string, keyof typeof FILES> = {
    GrantDocument: "grant",
    RevokeDocument: "revoke",
    ClearCutoffDocument: "clearCutoff",
  };

  for (const [logicalId, key] of Object.entries(embedded)) {
    it(`${logicalId}.Content equals ${FILES[key]}`, () => {
      const content = template.Resources[logicalId]?.Properties?.Content;
      expect(content).toEqual(runbooks[key]);
    });
  }

  it("GrantApprovalDocument.Content equals infra/runbooks/elevate-grant-approval.yaml", () => {
    const path = "infra/runbooks/elevate-grant-approval.yaml";
    const content = template.Resources.GrantApprovalDocument?.Properties?.Content;
    expect(content).toEqual(parseRunbook(readFileSync(path, "utf8"), path));
  });

  it("node infra/sync-runbooks.mjs --check finds the template up to date", () => {
    const out = execFileSync(process.execPath, ["infra/sync-runbooks.mjs", "--check"], { encoding: "utf8" });
    expect(out).toMatch(/embeds 9 runbooks, all up to date/);
  });

  it("the sync detects a stale copy", async () => {
    const { syncTemplate } = await import("../../infra/sync-runbooks.mjs");
    const text = readFileSync("infra/template.yaml", "utf8");
    const same = syncTemplate(text, (path) => readFileSync(path, "utf8"));
    expect(same.stale).toEqual([]);
    expect(same.text).toBe(text);
    const changed = syncTemplate(text, (path) =>
      path === FILES.grant ? readFileSync(path, "utf8").replace("sts:AssumeRole", "sts:*") : readFileSync(path, "utf8"),
    );
    expect(changed.stale).toEqual([FILES.grant]);
  });
});

describe("member-account runbooks (issue 15, many accounts)", () => {
  const MEMBER_FILES = {
    memberCutoff: "infra/runbooks/elevate-member-cutoff.yaml",
    memberClearCutoff: "infra/runbooks/elevate-member-clear-cutoff.yaml",
  } as const;
  const member = Object.fromEntries(
    Object.entries(MEMBER_FILES).map(([key, path]) => [key, parseRunbook(readFileSync(path, "utf8"), path)]),
  ) as Record<keyof typeof MEMBER_FILES, Runbook>;

  for (const [key, runbook] of Object.entries(member)) {
    it(`${key}: runs as its caller (the member's execution role), with anchored required parameters`, () => {
      // No assumeRole: a child of a multi-account execution acts as the execution role.
      expect(runbook.assumeRole).toBeUndefined();
      for (const [name, spec] of Object.entries(runbook.parameters)) {
        expect(spec.default, name).toBeUndefined();
        expect(VALID[name], name).toBeDefined();
        const pattern = new RegExp(spec.allowedPattern as string);
        for (const value of VALID[name] ?? []) expect(pattern.test(value), value).toBe(true);
        for (const value of [...HOSTILE_COMMON, ...(HOSTILE[name] ?? [])])
          expect(pattern.test(value), value).toBe(false);
      }
      for (const s of runbook.mainSteps) {
        expect(["aws:executeAwsApi", "aws:branch", "aws:executeScript", "aws:sleep"]).toContain(s.action);
        if (s.action === "aws:executeAwsApi") expect(s.inputs.Service).toBe("iam");
        expect(s.onFailure).toBeUndefined();
      }
      expect(runbook.mainSteps.at(-1)?.isEnd).toBe(true);
    });
  }

  it.each([
    ["memberCutoff", "putCutOff"],
    ["memberClearCutoff", "clearCutOff"],
    ["revoke", "putCutOffPolicy"],
    ["clearCutoff", "clearCutOff"],
  ] as const)("%s writes and recognises exactly cutoffPolicyText", async (key, stepName) => {
    const book = key === "revoke" || key === "clearCutoff" ? runbooks[key] : member[key];
    const script = step(book, stepName).inputs.Script as string;
    const probe = `${script}\n\ndef render(events, context):\n    return cutoff_text(events["UserName"], datetime.strptime(events["RevokedAt"], TIME).replace(tzinfo=timezone.utc))\n`;
    for (const [user, at] of [
      ["alice.smith", "2026-11-30T10:15:07Z"],
      ["bob+ops@example.com", "2027-01-01T00:00:00Z"],
    ] as const) {
      const out = await runPythonScript({
        script: probe,
        handler: "render",
        payload: { UserName: user, RevokedAt: at },
        now: new Date("2026-11-30T08:00:00Z"),
      });
      expect(out.Payload).toBe(cutoffPolicyText(user, new Date(at)));
    }
  });
});
