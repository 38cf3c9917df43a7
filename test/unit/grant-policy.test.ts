/**
 * Proofs of the grant policy (docs/threat-model.md invariant 2) and the session cut-off
 * (invariant 3), evaluated by an independent IAM policy engine
 * (@cloud-copilot/iam-simulate, in Strict mode: conditions see exactly the context
 * given, nothing is inferred).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CUTOFF_STATEMENT_SID,
  cutoffPolicyName,
  cutoffPolicyText,
  formatIamTime,
  GRANT_STATEMENT_SID,
  type GrantPolicyInput,
  grantPolicyDocument,
  grantPolicyName,
  grantPolicyText,
  iamPolicySize,
  parseCutoffPolicy,
  parseGrantPolicy,
  ROLE_INLINE_POLICY_BUDGET,
  USER_INLINE_POLICY_BUDGET,
} from "../../src/domain/grant-policy.js";
import { type IamQuestion, iamDecision } from "../support/iam-simulate.js";

const ACCOUNT = "123456789012";
const ROLE_ACCOUNT = "210987654321";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const NOT_BEFORE = new Date("2026-11-30T09:00:00Z");
const NOT_AFTER = new Date("2026-11-30T11:00:00Z");

const GRANT: GrantPolicyInput = {
  requestId: "resize-web-asg",
  iamUser: "alice.smith",
  roleArn: ROLE_ARN,
  notBefore: NOT_BEFORE,
  notAfter: NOT_AFTER,
};

/** A trust policy that lets the whole account ask; the grant policy alone decides. */
function trustAccount(account: string, extra: Record<string, unknown> = {}) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole", ...extra },
    ],
  };
}

const seconds = (date: Date, delta: number) => new Date(date.getTime() + delta * 1000);

function assumeRole(
  overrides: { user?: string; roleArn?: string; at?: Date; session?: string | null; trust?: object } = {},
  policies: string[] = [grantPolicyText(GRANT)],
): IamQuestion {
  const user = overrides.user ?? "alice.smith";
  const context: Record<string, string> = {
    "aws:CurrentTime": formatIamTime(overrides.at ?? seconds(NOT_BEFORE, 3600)),
    "aws:username": user,
  };
  if (overrides.session !== null) context["sts:RoleSessionName"] = overrides.session ?? user;
  return {
    principal: `arn:aws:iam::${ACCOUNT}:user/${user}`,
    action: "sts:AssumeRole",
    resource: overrides.roleArn ?? ROLE_ARN,
    context,
    identityPolicies: policies,
    resourcePolicy: overrides.trust ?? trustAccount(ACCOUNT),
  };
}

describe("grant policy evaluated by iam-simulate", () => {
  it.each([
    ["at notBefore", NOT_BEFORE],
    ["in the middle", seconds(NOT_BEFORE, 3600)],
    ["one second before notAfter", seconds(NOT_AFTER, -1)],
    ["at notAfter", NOT_AFTER],
  ])("allows the user's own session %s", async (_label, at) => {
    expect(await iamDecision(assumeRole({ at }))).toBe("Allowed");
  });

  it.each([
    ["one second before notBefore", seconds(NOT_BEFORE, -1)],
    ["one second after notAfter", seconds(NOT_AFTER, 1)],
    ["a day after notAfter (expires by itself, no revoke needed)", seconds(NOT_AFTER, 86_400)],
    ["a year before", new Date("2025-11-30T10:00:00Z")],
  ])("denies %s", async (_label, at) => {
    expect(await iamDecision(assumeRole({ at }))).toBe("ImplicitlyDenied");
  });

  it.each([
    ["another role in the same path", `arn:aws:iam::${ACCOUNT}:role/elevated/Admin_Role`],
    ["a role whose name extends the granted one", `${ROLE_ARN}2`],
    ["the same role name without its path", `arn:aws:iam::${ACCOUNT}:role/EC2_FullAccess_Role`],
    ["the same role name in another account", `arn:aws:iam::${ROLE_ACCOUNT}:role/elevated/EC2_FullAccess_Role`],
  ])("denies %s", async (_label, roleArn) => {
    const trust = trustAccount(ACCOUNT);
    expect(await iamDecision(assumeRole({ roleArn, trust }))).toBe("ImplicitlyDenied");
  });

  it.each([
    ["another user's name", "bob"],
    ["a name extending the user's", "alice.smith2"],
    ["the user's name in another case", "Alice.Smith"],
    ["an empty name", ""],
  ])("denies a session named with %s", async (_label, session) => {
    expect(await iamDecision(assumeRole({ session }))).toBe("ImplicitlyDenied");
  });

  it("denies a request without a session name", async () => {
    expect(await iamDecision(assumeRole({ session: null }))).toBe("ImplicitlyDenied");
  });

  it("allows nothing but sts:AssumeRole", async () => {
    for (const action of ["sts:TagSession", "iam:PassRole", "iam:GetRole"]) {
      // sts:RoleSessionName does not apply to these actions; the simulator drops it, which
      // cannot matter here because the grant's Action never matches them.
      expect(await iamDecision({ ...assumeRole(), action, allowIgnoredContextKeys: true })).toBe("ImplicitlyDenied");
    }
  });

  it("does not help another user: bob's own grant cannot assume alice's role window as alice", async () => {
    const bobsGrant = grantPolicyText({ ...GRANT, requestId: "bob-req", iamUser: "bob" });
    // The example role's trust: the session name must equal the caller's IAM user name.
    const trustSessionIsUser = trustAccount(ACCOUNT, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
      Condition: { StringEquals: { "sts:RoleSessionName": "${aws:username}" } },
    });
    // bob, with his own grant, using his own name: allowed
    expect(await iamDecision(assumeRole({ user: "bob", trust: trustSessionIsUser }, [bobsGrant]))).toBe("Allowed");
    // bob pretending to be alice in the session name: his grant does not allow it, nor does the trust
    expect(
      await iamDecision(assumeRole({ user: "bob", session: "alice.smith", trust: trustSessionIsUser }, [bobsGrant])),
    ).toBe("ImplicitlyDenied");
    expect(await iamDecision(assumeRole({ user: "bob", session: "alice.smith" }, [bobsGrant]))).toBe(
      "ImplicitlyDenied",
    );
    // bob holding no grant at all: denied
    expect(await iamDecision(assumeRole({ user: "bob" }, []))).toBe("ImplicitlyDenied");
  });

  it("works across accounts when the role's account trusts the user's account, and only then", async () => {
    const roleArn = `arn:aws:iam::${ROLE_ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
    const policy = grantPolicyText({ ...GRANT, roleArn });
    expect(await iamDecision(assumeRole({ roleArn, trust: trustAccount(ACCOUNT) }, [policy]))).toBe("Allowed");
    expect(await iamDecision(assumeRole({ roleArn, trust: trustAccount("111122223333") }, [policy]))).toBe(
      "ImplicitlyDenied",
    );
    expect(
      await iamDecision(assumeRole({ roleArn, trust: trustAccount(ACCOUNT), at: seconds(NOT_AFTER, 1) }, [policy])),
    ).toBe("ImplicitlyDenied");
  });

  it("two grants of the same user for different roles do not leak into each other", async () => {
    const other = `arn:aws:iam::${ACCOUNT}:role/elevated/S3_Admin_Role`;
    const otherGrant = grantPolicyText({
      ...GRANT,
      requestId: "s3-cleanup",
      roleArn: other,
      notBefore: new Date("2026-12-01T09:00:00Z"),
      notAfter: new Date("2026-12-01T10:00:00Z"),
    });
    const both = [grantPolicyText(GRANT), otherGrant];
    expect(await iamDecision(assumeRole({}, both))).toBe("Allowed");
    // the other role is not assumable during the first grant's window
    expect(await iamDecision(assumeRole({ roleArn: other }, both))).toBe("ImplicitlyDenied");
    // the first role is not assumable during the other grant's window
    expect(await iamDecision(assumeRole({ at: new Date("2026-12-01T09:30:00Z") }, both))).toBe("ImplicitlyDenied");
  });
});

describe("grant policy text", () => {
  it("is the documented compact shape", () => {
    expect(grantPolicyName("resize-web-asg")).toBe("elevate-resize-web-asg");
    expect(grantPolicyText(GRANT)).toBe(
      '{"Version":"2012-10-17","Statement":[{"Sid":"ElevateGrant","Effect":"Allow","Action":"sts:AssumeRole",' +
        '"Resource":"arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role","Condition":{' +
        '"DateGreaterThanEquals":{"aws:CurrentTime":"2026-11-30T09:00:00Z"},' +
        '"DateLessThanEquals":{"aws:CurrentTime":"2026-11-30T11:00:00Z"},' +
        '"StringEquals":{"sts:RoleSessionName":"alice.smith"}}}]}',
    );
  });

  it("round-trips through parseGrantPolicy, plain and URL-encoded as IAM returns it", () => {
    const expected = {
      roleArn: ROLE_ARN,
      iamUserSessionName: "alice.smith",
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    };
    const text = grantPolicyText(GRANT);
    expect(parseGrantPolicy(text)).toEqual(expected);
    expect(parseGrantPolicy(encodeURIComponent(text))).toEqual(expected);
    expect(parseGrantPolicy(encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()))).toEqual(
      expected,
    );
    // IAM may give back the same document with other whitespace or key order
    expect(parseGrantPolicy(JSON.stringify(grantPolicyDocument(GRANT), null, 2))).toEqual(expected);
    const reordered = grantPolicyDocument(GRANT);
    const statement = reordered.Statement[0];
    const shuffled = {
      Statement: [
        {
          Condition: {
            StringEquals: statement.Condition.StringEquals,
            DateLessThanEquals: statement.Condition.DateLessThanEquals,
            DateGreaterThanEquals: statement.Condition.DateGreaterThanEquals,
          },
          Resource: statement.Resource,
          Action: statement.Action,
          Effect: statement.Effect,
          Sid: statement.Sid,
        },
      ],
      Version: reordered.Version,
    };
    expect(parseGrantPolicy(JSON.stringify(shuffled))).toEqual(expected);
  });

  it("round-trips any valid user, role ARN and whole-second window (property)", () => {
    const iamName = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
    const roleArn = fc
      .tuple(
        fc.constantFrom("aws", "aws-us-gov", "aws-cn"),
        fc.stringMatching(/^\d{12}$/),
        fc.stringMatching(/^(\/[\w+=,.@-]{1,20}){0,3}\/$/),
        iamName,
      )
      .map(([partition, account, path, name]) => `arn:${partition}:iam::${account}:role${path}${name}`);
    const wholeSecond = fc.integer({ min: Date.UTC(2020, 0, 1) / 1000, max: Date.UTC(2099, 0, 1) / 1000 });
    fc.assert(
      fc.property(iamName, roleArn, wholeSecond, fc.integer({ min: 0, max: 12 * 3600 }), (user, arn, start, len) => {
        const input = {
          requestId: "abc",
          iamUser: user,
          roleArn: arn,
          notBefore: new Date(start * 1000),
          notAfter: new Date((start + len) * 1000),
        };
        const expected = {
          roleArn: arn,
          iamUserSessionName: user,
          notBefore: input.notBefore,
          notAfter: input.notAfter,
        };
        expect(parseGrantPolicy(grantPolicyText(input))).toEqual(expected);
        expect(parseGrantPolicy(encodeURIComponent(grantPolicyText(input)))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  type Doc = ReturnType<typeof grantPolicyDocument> & Record<string, unknown>;
  const tamper = (edit: (doc: Doc, statement: Record<string, unknown>) => void) => {
    const doc = structuredClone(grantPolicyDocument(GRANT)) as Doc;
    edit(doc, doc.Statement[0] as unknown as Record<string, unknown>);
    return JSON.stringify(doc);
  };
  const condition = (s: Record<string, unknown>) => s.Condition as Record<string, Record<string, string>>;

  it.each<[string, string]>([
    ["an extra statement", tamper((d) => (d.Statement as unknown[]).push({ ...d.Statement[0], Sid: "Extra" }))],
    ["no statements", tamper((d) => (d.Statement as unknown[]).pop())],
    ["a statement object instead of a list", tamper((d) => Object.assign(d, { Statement: d.Statement[0] }))],
    ["a wildcard action", tamper((_d, s) => Object.assign(s, { Action: "*" }))],
    ["a service wildcard action", tamper((_d, s) => Object.assign(s, { Action: "sts:*" }))],
    ["an action list", tamper((_d, s) => Object.assign(s, { Action: ["sts:AssumeRole", "sts:TagSession"] }))],
    ["Deny", tamper((_d, s) => Object.assign(s, { Effect: "Deny" }))],
    ["another Sid", tamper((_d, s) => Object.assign(s, { Sid: "Other" }))],
    ["another Version", tamper((d) => Object.assign(d, { Version: "2008-10-17" }))],
    ["a wildcard resource", tamper((_d, s) => Object.assign(s, { Resource: "*" }))],
    ["a resource with a wildcard", tamper((_d, s) => Object.assign(s, { Resource: `${ROLE_ARN}*` }))],
    ["a resource list", tamper((_d, s) => Object.assign(s, { Resource: [ROLE_ARN] }))],
    [
      "a resource that is not a role",
      tamper((_d, s) => Object.assign(s, { Resource: `arn:aws:iam::${ACCOUNT}:user/x` })),
    ],
    ["NotResource added", tamper((_d, s) => Object.assign(s, { NotResource: "arn:aws:iam::*:role/x" }))],
    ["no condition", tamper((_d, s) => delete s.Condition)],
    ["no start", tamper((_d, s) => delete condition(s).DateGreaterThanEquals)],
    ["no end", tamper((_d, s) => delete condition(s).DateLessThanEquals)],
    ["no session name", tamper((_d, s) => delete condition(s).StringEquals)],
    [
      "an extra condition operator",
      tamper((_d, s) => Object.assign(condition(s), { Bool: { "aws:SecureTransport": "true" } })),
    ],
    ["an extra condition key", tamper((_d, s) => Object.assign(condition(s).StringEquals!, { "aws:username": "x" }))],
    [
      "a wildcard session name",
      tamper((_d, s) => Object.assign(condition(s).StringEquals!, { "sts:RoleSessionName": "*" })),
    ],
    [
      "a session name list",
      tamper((_d, s) => Object.assign(condition(s), { StringEquals: { "sts:RoleSessionName": ["a"] } })),
    ],
    [
      "milliseconds in a time",
      tamper((_d, s) =>
        Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "2026-11-30T11:00:00.000Z" } }),
      ),
    ],
    [
      "an offset time",
      tamper((_d, s) =>
        Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "2026-11-30T20:00:00+09:00" } }),
      ),
    ],
    [
      "an epoch time",
      tamper((_d, s) => Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "1796029200" } })),
    ],
    [
      "a date that does not exist",
      tamper((_d, s) =>
        Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "2026-02-30T11:00:00Z" } }),
      ),
    ],
    [
      "hour 25",
      tamper((_d, s) =>
        Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "2026-11-30T25:00:00Z" } }),
      ),
    ],
    [
      "a window that ends before it starts",
      tamper((_d, s) =>
        Object.assign(condition(s), { DateLessThanEquals: { "aws:CurrentTime": "2026-11-30T08:59:59Z" } }),
      ),
    ],
    ["a top-level extra key", tamper((d) => Object.assign(d, { Id: "x" }))],
    ["not JSON", "{"],
    ["JSON null", "null"],
    ["broken URL encoding", "%7B%E0%A4%A"],
  ])("rejects a grant policy with %s", (_label, text) => {
    expect(parseGrantPolicy(text)).toBeUndefined();
    expect(parseGrantPolicy(encodeURIComponent(text))).toBeUndefined();
  });

  it("the tampered samples are otherwise well-formed: the untampered one parses", () => {
    expect(parseGrantPolicy(tamper(() => {}))).toBeDefined();
  });
});

describe("inline policy budget (2,048 characters per user, whitespace excluded)", () => {
  // IAM limits (IAM User Guide, "IAM and AWS STS quotas"): user names up to 64
  // characters of [\w+=,.@-]; role names up to 64; paths up to 512 characters.
  const maxUser = `${"a".repeat(60)}.@+=`.slice(0, 64);
  const maxPath = `/${"p".repeat(510)}/`;
  const maxRoleArn = `arn:aws-us-gov:iam::${ACCOUNT}:role${maxPath}${"R".repeat(64)}`;
  const realisticArn = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;

  it("pins the fixed overhead of the format: 305 characters plus user name plus role ARN", () => {
    const size = (iamUser: string, roleArn: string) => iamPolicySize(grantPolicyText({ ...GRANT, iamUser, roleArn }));
    const overhead = size("u", "arn:aws:iam::123456789012:role/r") - 1 - 32;
    expect(overhead).toBe(305);
    expect(size(maxUser, realisticArn)).toBe(305 + 64 + realisticArn.length);
  });

  it("whitespace does not count, as IAM measures it", () => {
    const pretty = JSON.stringify(grantPolicyDocument(GRANT), null, 4);
    expect(iamPolicySize(pretty)).toBe(iamPolicySize(grantPolicyText(GRANT)));
    expect(iamPolicySize(pretty)).toBeLessThan(pretty.length);
  });

  it("the biggest possible grant (64-character user, 512-character path, 64-character role) fits", () => {
    expect(maxUser).toHaveLength(64);
    expect(maxRoleArn.length).toBe(20 + 12 + 5 + 512 + 64); // 613
    const size = iamPolicySize(grantPolicyText({ ...GRANT, iamUser: maxUser, roleArn: maxRoleArn }));
    expect(size).toBe(305 + 64 + maxRoleArn.length); // 982
    expect(size).toBeLessThanOrEqual(USER_INLINE_POLICY_BUDGET);
    // ... but only two such grants fit side by side on one user.
    expect(Math.floor(USER_INLINE_POLICY_BUDGET / size)).toBe(2);
  });

  it("a max-length user with a realistic role ARN leaves room for several concurrent grants", () => {
    const size = iamPolicySize(grantPolicyText({ ...GRANT, iamUser: maxUser, roleArn: realisticArn }));
    expect(size).toBe(428);
    expect(Math.floor(USER_INLINE_POLICY_BUDGET / size)).toBe(4);
  });
});

describe("session cut-off evaluated by iam-simulate", () => {
  const REVOKED_AT = new Date("2026-11-30T10:00:00Z");
  const ROLE_PERMISSIONS = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["ec2:*", "s3:ListAllMyBuckets"], Resource: "*" }],
  };

  function sessionCall(session: string, issuedAt: Date, cutoffs: string[], action = "ec2:DescribeInstances") {
    return iamDecision({
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/${session}`,
      action,
      resource: "*",
      context: {
        "aws:userid": `AROAEXAMPLE:${session}`,
        "aws:TokenIssueTime": formatIamTime(issuedAt),
        "aws:CurrentTime": formatIamTime(seconds(REVOKED_AT, 60)),
      },
      roleInlinePolicies: [
        { name: "permissions", policy: ROLE_PERMISSIONS },
        ...cutoffs.map((text, i) => ({ name: `cutoff-${i}`, policy: text })),
      ],
    });
  }

  const aliceCutoff = cutoffPolicyText("alice.smith", REVOKED_AT);

  it("denies every action to the user's sessions issued before the revocation", async () => {
    for (const action of ["ec2:DescribeInstances", "ec2:TerminateInstances", "s3:ListAllMyBuckets"]) {
      expect(await sessionCall("alice.smith", seconds(REVOKED_AT, -1), [aliceCutoff], action)).toBe("ExplicitlyDenied");
    }
    expect(await sessionCall("alice.smith", seconds(REVOKED_AT, -3 * 3600), [aliceCutoff])).toBe("ExplicitlyDenied");
  });

  it("leaves the user's sessions issued at or after the revocation to the role's allow policy", async () => {
    expect(await sessionCall("alice.smith", REVOKED_AT, [aliceCutoff])).toBe("Allowed");
    expect(await sessionCall("alice.smith", seconds(REVOKED_AT, 1), [aliceCutoff])).toBe("Allowed");
  });

  it("leaves other users' sessions untouched", async () => {
    expect(await sessionCall("bob", seconds(REVOKED_AT, -60), [aliceCutoff])).toBe("Allowed");
  });

  it("matches whole session names: xbob's cut-off does not touch bob, nor bob's touch xbob or bob.smith", async () => {
    const issued = seconds(REVOKED_AT, -60);
    expect(await sessionCall("bob", issued, [cutoffPolicyText("xbob", REVOKED_AT)])).toBe("Allowed");
    expect(await sessionCall("xbob", issued, [cutoffPolicyText("bob", REVOKED_AT)])).toBe("Allowed");
    expect(await sessionCall("bob.smith", issued, [cutoffPolicyText("bob", REVOKED_AT)])).toBe("Allowed");
    expect(await sessionCall("bob", issued, [cutoffPolicyText("bob", REVOKED_AT)])).toBe("ExplicitlyDenied");
  });

  it("several users' cut-offs on one role each act on their own user only", async () => {
    const cutoffs = [aliceCutoff, cutoffPolicyText("bob", seconds(REVOKED_AT, -7200))];
    const issued = seconds(REVOKED_AT, -3600); // after bob's cut-off, before alice's
    expect(await sessionCall("alice.smith", issued, cutoffs)).toBe("ExplicitlyDenied");
    expect(await sessionCall("bob", issued, cutoffs)).toBe("Allowed");
  });

  it("round-trips through parseCutoffPolicy and has the documented name", () => {
    expect(cutoffPolicyName("alice.smith")).toBe("elevate-cutoff-alice.smith");
    const expected = { iamUser: "alice.smith", revokedAt: REVOKED_AT };
    expect(parseCutoffPolicy(aliceCutoff)).toEqual(expected);
    expect(parseCutoffPolicy(encodeURIComponent(aliceCutoff))).toEqual(expected);
    expect(JSON.parse(aliceCutoff).Statement[0].Sid).toBe(CUTOFF_STATEMENT_SID);
    expect(JSON.parse(grantPolicyText(GRANT)).Statement[0].Sid).toBe(GRANT_STATEMENT_SID);
  });

  it("fits many users on one role within the 10,240-character role inline budget", () => {
    const maxUser = "u".repeat(64);
    const size = iamPolicySize(cutoffPolicyText(maxUser, REVOKED_AT));
    expect(size).toBe(278);
    // shared with the role's own inline policies, so in practice somewhat fewer
    expect(Math.floor(ROLE_INLINE_POLICY_BUDGET / size)).toBe(36);
  });
});

describe("the iam-simulate test helper is strict, so proofs cannot pass for the wrong reason", () => {
  it("throws when a context key would be silently dropped", async () => {
    await expect(
      iamDecision({ ...assumeRole(), action: "iam:GetRole", context: { "sts:RoleSessionName": "alice.smith" } }),
    ).rejects.toThrow(/ignored context keys sts:RoleSessionName/);
  });

  it("throws on an invalid policy instead of treating it as a deny", async () => {
    const broken = { Version: "2012-10-17", Statement: [{ Effect: "Alow", Action: "sts:AssumeRole", Resource: "*" }] };
    await expect(iamDecision(assumeRole({}, [JSON.stringify(broken)]))).rejects.toThrow(/Effect/);
  });

  it("throws on an unknown action", async () => {
    await expect(iamDecision({ ...assumeRole(), action: "sts:AssumeRol" })).rejects.toThrow(/invalid\.action/);
  });

  it("refuses role inline policies for a principal that is not a role session", async () => {
    await expect(iamDecision({ ...assumeRole(), roleInlinePolicies: [grantPolicyText(GRANT)] })).rejects.toThrow(
      /assumed-role sessions only/,
    );
  });

  it("accepts URL-encoded policy text as IAM returns it", async () => {
    expect(await iamDecision(assumeRole({}, [encodeURIComponent(grantPolicyText(GRANT))]))).toBe("Allowed");
  });
});

// biome-ignore lint/suspicious/noExplicitAny: tampering tests mutate arbitrary fields of the parsed document.
type CutoffDoc = any;

describe("parseCutoffPolicy accepts exactly the rendered cut-off shape", () => {
  const at = new Date("2026-11-30T10:00:00Z");
  const text = cutoffPolicyText("alice.smith", at);

  it("round-trips, plain and URL-encoded", () => {
    expect(parseCutoffPolicy(text)).toEqual({ iamUser: "alice.smith", revokedAt: at });
    expect(parseCutoffPolicy(encodeURIComponent(text))).toEqual({ iamUser: "alice.smith", revokedAt: at });
  });

  it.each([
    ["a wildcard user", (d: CutoffDoc) => (d.Statement[0].Condition.StringLike["aws:userid"] = "*:*")],
    ["a narrower action", (d: CutoffDoc) => (d.Statement[0].Action = "s3:*")],
    ["a narrower resource", (d: CutoffDoc) => (d.Statement[0].Resource = "arn:aws:s3:::x")],
    ["an extra condition", (d: CutoffDoc) => (d.Statement[0].Condition.Bool = { "aws:SecureTransport": "true" })],
    ["an Allow", (d: CutoffDoc) => (d.Statement[0].Effect = "Allow")],
    [
      "an impossible date",
      (d: CutoffDoc) => (d.Statement[0].Condition.DateLessThan["aws:TokenIssueTime"] = "2026-02-30T00:00:00Z"),
    ],
  ])("rejects %s", (_name, mutate) => {
    const doc = JSON.parse(text);
    mutate(doc);
    expect(parseCutoffPolicy(JSON.stringify(doc))).toBeUndefined();
  });
});
