import { describe, expect, it } from "vitest";
import { escapeMessage, formatLocatedError } from "../../src/domain/errors.js";
import {
  grantPolicyText,
  iamPolicySize,
  parseGrantPolicy,
  USER_INLINE_POLICY_BUDGET,
} from "../../src/domain/grant-policy.js";
import { buildGrantPlan } from "../../src/domain/plan.js";
import { type ValidRequest, validateRequest } from "../../src/domain/request.js";
import { computeWindow, isWindowClosed, truncateToSecond } from "../../src/domain/window.js";
import { exampleConfig, requestText, VALID_EC2 } from "./domain-fixtures.js";

const config = exampleConfig();
const HOUR = 3_600_000;

describe("computeWindow", () => {
  it("starts at merge when there is no start", () => {
    const w = computeWindow({ mergedAt: new Date("2026-11-30T09:00:00Z"), durationMs: 2 * HOUR });
    expect(w).toEqual({ notBefore: new Date("2026-11-30T09:00:00Z"), notAfter: new Date("2026-11-30T11:00:00Z") });
  });

  it("starts at start when it is after the merge, and at merge when start is before it", () => {
    const mergedAt = new Date("2026-11-30T09:00:00Z");
    const later = computeWindow({ mergedAt, start: new Date("2026-11-30T12:00:00Z"), durationMs: HOUR });
    expect(later.notBefore.toISOString()).toBe("2026-11-30T12:00:00.000Z");
    expect(later.notAfter.toISOString()).toBe("2026-11-30T13:00:00.000Z");
    const earlier = computeWindow({ mergedAt, start: new Date("2026-11-30T08:30:00Z"), durationMs: HOUR });
    expect(earlier.notBefore.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(earlier.notAfter.toISOString()).toBe("2026-11-30T10:00:00.000Z");
  });

  it("truncates sub-seconds of both the merge time and start, so bounds are whole seconds", () => {
    const w = computeWindow({
      mergedAt: new Date("2026-11-30T09:00:00.999Z"),
      start: new Date("2026-11-30T09:00:00.500Z"),
      durationMs: HOUR,
    });
    expect(w.notBefore.toISOString()).toBe("2026-11-30T09:00:00.000Z");
    expect(w.notAfter.toISOString()).toBe("2026-11-30T10:00:00.000Z");
    expect(truncateToSecond(new Date(-1)).getTime()).toBe(-1000);
  });

  it("refuses impossible inputs", () => {
    const mergedAt = new Date("2026-11-30T09:00:00Z");
    expect(() => computeWindow({ mergedAt: new Date(Number.NaN), durationMs: HOUR })).toThrow(RangeError);
    expect(() => computeWindow({ mergedAt, durationMs: 0 })).toThrow(RangeError);
    expect(() => computeWindow({ mergedAt, durationMs: 1500 })).toThrow(RangeError);
  });

  it("is closed only after notAfter (IAM's bound is inclusive)", () => {
    const w = computeWindow({ mergedAt: new Date("2026-11-30T09:00:00Z"), durationMs: HOUR });
    expect(isWindowClosed(w, new Date("2026-11-30T10:00:00.000Z"))).toBe(false);
    expect(isWindowClosed(w, new Date("2026-11-30T10:00:00.001Z"))).toBe(true);
    expect(isWindowClosed(w, new Date("2026-11-30T08:00:00Z"))).toBe(false);
  });
});

function validRequest(fields = VALID_EC2, path = "requests/ec2-admin/resize-web-asg.yaml"): ValidRequest {
  const { request, errors } = validateRequest({
    text: requestText(fields),
    path,
    config,
    now: new Date("2026-11-30T00:00:00Z"),
  });
  if (!request) throw new Error(JSON.stringify(errors));
  return request;
}

describe("buildGrantPlan", () => {
  it("plans the exact grant policy for the window", () => {
    const request = validRequest({ ...VALID_EC2, start: "2026-11-30T12:00:00+09:00" } as typeof VALID_EC2);
    const result = buildGrantPlan(request, config, new Date("2026-11-30T01:02:03.456Z"));
    if (!result.ok) throw new Error(result.message);
    const { plan } = result;
    expect(plan).toMatchObject({
      requestId: "resize-web-asg",
      iamUser: "alice.smith",
      roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      notBefore: "2026-11-30T03:00:00Z",
      notAfter: "2026-11-30T04:30:00Z",
      policyName: "elevate-resize-web-asg",
    });
    const text = grantPolicyText({
      requestId: plan.requestId,
      iamUser: plan.iamUser,
      roleArn: plan.roleArn,
      notBefore: new Date(plan.notBefore),
      notAfter: new Date(plan.notAfter),
    });
    expect(JSON.stringify(plan.policyDocument)).toBe(text);
    expect(parseGrantPlanWindow(text)).toEqual([plan.notBefore, plan.notAfter]);
  });

  it("uses the merge time, truncated, when there is no start", () => {
    const result = buildGrantPlan(validRequest(), config, new Date("2026-11-30T01:02:03.456Z"));
    expect(result.ok && [result.plan.notBefore, result.plan.notAfter]).toEqual([
      "2026-11-30T01:02:03Z",
      "2026-11-30T02:32:03Z",
    ]);
  });

  it("refuses when the role or user no longer matches the config", () => {
    const request = validRequest();
    const renamed = exampleConfig().roles;
    const other = { ...config, roles: { "read-only": renamed["read-only"]! } };
    const result = buildGrantPlan(request, other, new Date());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/not \(or no longer\) in the config's catalog/);
    const movedUser = { ...config, users: { ...config.users, alice: { iamUser: "someone-else" } } };
    const result2 = buildGrantPlan(request, movedUser, new Date());
    expect(!result2.ok && result2.message).toMatch(/no longer\) mapped to IAM user "alice.smith"/);
  });

  it("refuses a policy over IAM's inline policy budget instead of planning a partial grant", () => {
    // Unreachable through loadConfig (role names are at most 64 characters); built by hand to prove the guard.
    const longArn = `arn:aws:iam::123456789012:role/${"p/".repeat(900)}Role`;
    const big = { ...config, roles: { ...config.roles, "ec2-admin": { ...config.roles["ec2-admin"]!, arn: longArn } } };
    const valid = validRequest();
    const request = { ...valid, access: { ...valid.access, roleArn: longArn } };
    const result = buildGrantPlan(request, big, new Date("2026-11-30T00:00:00Z"));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(new RegExp(`over IAM's ${USER_INLINE_POLICY_BUDGET}-character budget`));
    }
    // The largest policy loadConfig and validateRequest allow still fits.
    const text = grantPolicyText({
      requestId: "a".repeat(63),
      iamUser: "u".repeat(64),
      roleArn: `arn:aws-us-gov:iam::123456789012:role/${"p".repeat(509)}/${"r".repeat(64)}`,
      notBefore: new Date(),
      notAfter: new Date(),
    });
    expect(iamPolicySize(text)).toBeLessThanOrEqual(USER_INLINE_POLICY_BUDGET);
  });
});

function parseGrantPlanWindow(text: string): [string, string] | undefined {
  const parsed = parseGrantPolicy(text);
  return parsed
    ? [`${parsed.notBefore.toISOString().slice(0, 19)}Z`, `${parsed.notAfter.toISOString().slice(0, 19)}Z`]
    : undefined;
}

describe("formatLocatedError", () => {
  it("prints FILE:LINE:COL: error: MESSAGE on one line", () => {
    expect(formatLocatedError({ file: "requests/a/b.yaml", line: 3, col: 11, message: "bad duration" })).toBe(
      "requests/a/b.yaml:3:11: error: bad duration",
    );
  });

  it("escapes line breaks and control characters in the message and the file name", () => {
    const line = formatLocatedError({ file: "a\nb.yaml", line: 1, col: 1, message: "one\ntwo\r\u0007\u2028" });
    expect(line).toBe("a\\nb.yaml:1:1: error: one\\ntwo\\r\\u0007\\u2028");
    expect(line).not.toMatch(/[\n\r]/);
    expect(escapeMessage("tab\there")).toBe("tab\\there");
  });
});
