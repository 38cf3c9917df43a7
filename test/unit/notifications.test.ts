/**
 * Notification messages (src/domain/notifications.ts) against the JSON Schema in
 * docs/notifications.md, SNS subject rules, and publishing that never throws
 * (src/modes/notify.ts).
 */
import { readFileSync } from "node:fs";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildNotification,
  type ElevateEvent,
  NOTIFICATION_EVENTS,
  NOTIFICATION_JSON_SCHEMA,
  notificationSubject,
  snsSubject,
} from "../../src/domain/notifications.js";
import type { PermissionSetRevokeOutcome } from "../../src/domain/permission-set-revoke.js";
import type { KnownRequest } from "../../src/domain/revoke-authority.js";
import { permissionSetRevokeEvents } from "../../src/domain/revoke-notifications.js";
import { publishEvents } from "../../src/modes/notify.js";

// --- A small JSON Schema validator: the keywords the schema uses, nothing more ----------------

type Schema = Record<string, unknown>;
const SUPPORTED = new Set([
  "$schema",
  "$id",
  "title",
  "type",
  "required",
  "additionalProperties",
  "properties",
  "const",
  "enum",
  "pattern",
  "items",
]);

/** Problems of `value` against `schema`, each as "path: why" (empty: valid). */
function validate(schema: Schema, value: unknown, path = "$"): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key)) throw new Error(`validator does not support the keyword ${key} (at ${path})`);
  }
  if ("const" in schema && value !== schema.const) problems.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${path}: not one of ${schema.enum}`);
  const type = schema.type;
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  if (type === "object" && !isObject) return [...problems, `${path}: must be an object`];
  if (type === "array" && !Array.isArray(value)) return [...problems, `${path}: must be an array`];
  if (type === "string" && typeof value !== "string") return [...problems, `${path}: must be a string`];
  if (type === "boolean" && typeof value !== "boolean") return [...problems, `${path}: must be a boolean`];
  if (type === "integer" && !Number.isInteger(value)) return [...problems, `${path}: must be an integer`];
  if (typeof schema.pattern === "string" && typeof value === "string" && !new RegExp(schema.pattern, "u").test(value)) {
    problems.push(`${path}: does not match ${schema.pattern}`);
  }
  if (isObject) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!Object.hasOwn(object, key)) problems.push(`${path}: missing ${key}`);
    }
    for (const [key, child] of Object.entries(object)) {
      const sub = properties[key];
      if (sub) problems.push(...validate(sub, child, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: unexpected property ${key}`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      problems.push(...validate(schema.items as Schema, item, `${path}[${i}]`));
    });
  }
  return problems;
}

/** The ```json block under "## Message schema" in docs/notifications.md. */
function documentedSchema(): Schema {
  const doc = readFileSync("docs/notifications.md", "utf8");
  const section = doc.slice(doc.indexOf("## Message schema"));
  const match = /```json\n([\s\S]*?)\n```/.exec(section);
  if (!match?.[1]) throw new Error("docs/notifications.md has no JSON Schema block under '## Message schema'");
  return JSON.parse(match[1]) as Schema;
}

// --- Fixtures ---------------------------------------------------------------------------------

const BASE = {
  occurredAt: new Date("2026-11-30T09:00:04.250Z"),
  repository: "acme/elevate",
  run: { id: "7001", attempt: "1", url: "https://github.com/acme/elevate/actions/runs/7001" },
};
const WINDOW = { notBefore: new Date("2026-11-30T09:00:00Z"), notAfter: new Date("2026-11-30T10:00:00Z") };
const ROLE_ARN = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";

const EXAMPLES: Record<(typeof NOTIFICATION_EVENTS)[number], ElevateEvent> = {
  requested: {
    ...BASE,
    event: "requested",
    requestId: "resize-web-asg",
    file: "requests/ec2-admin/resize-web-asg.yaml",
    requester: "alice",
    role: "ec2-admin",
    pr: { number: 42, url: "https://github.com/acme/elevate/pull/42" },
  },
  granted: {
    ...BASE,
    event: "granted",
    requestId: "resize-web-asg",
    requester: "alice",
    iamUser: "alice.smith",
    role: "ec2-admin",
    roleArn: ROLE_ARN,
    window: WINDOW,
    reason: "Resize the web ASG during INC-1234",
    ticket: "INC-1234",
    pr: { number: 42, url: "https://github.com/acme/elevate/pull/42" },
    approvals: [{ login: "bob", reviewId: 1001 }],
    cappedBy: { login: "bob", reviewId: 1001, cap: "duration 1h" },
    executionId: "0f2c1d9e-1111-2222-3333-444455556666",
  },
  refused: {
    ...BASE,
    event: "refused",
    requestId: "resize-web-asg",
    requester: "alice",
    role: "ec2-admin",
    detail: "1 of 2 required approval(s) from code owners",
  },
  revoked: {
    ...BASE,
    event: "revoked",
    requestId: "resize-web-asg",
    iamUser: "alice.smith",
    roleArn: ROLE_ARN,
    policyName: "elevate-resize-web-asg",
    window: WINDOW,
    detail: "request file deleted on main",
  },
  expired: {
    ...BASE,
    event: "expired",
    requestId: "resize-web-asg",
    iamUser: "alice.smith",
    policyName: "elevate-resize-web-asg",
    window: WINDOW,
  },
  drift: {
    ...BASE,
    event: "drift",
    iamUser: "bob",
    policyName: "elevate-handmade",
    drift: { kind: "unknown-request", action: "revoke" },
    detail: "no request file requests/<role>/handmade.yaml was ever added on the default branch",
  },
};

describe("notification messages", () => {
  it("docs/notifications.md shows exactly the schema the code exports", () => {
    expect(documentedSchema()).toEqual(JSON.parse(JSON.stringify(NOTIFICATION_JSON_SCHEMA)));
  });

  it.each(NOTIFICATION_EVENTS)("a %s message validates against the documented schema", (type) => {
    const message = JSON.parse(buildNotification(EXAMPLES[type]).message);
    expect(validate(documentedSchema(), message)).toEqual([]);
    expect(message).toMatchObject({
      schema: "elevate.notification/v1",
      event: type,
      occurredAt: "2026-11-30T09:00:04Z",
    });
  });

  it("a break-glass grant says so, with its review issue", () => {
    const message = JSON.parse(
      buildNotification({ ...EXAMPLES.granted, breakGlass: true, issue: { number: 7, url: "https://x/issues/7" } })
        .message,
    );
    expect(message.breakGlass).toBe(true);
    expect(message.issue).toEqual({ number: 7, url: "https://x/issues/7" });
    expect(validate(documentedSchema(), message)).toEqual([]);
    expect(JSON.parse(buildNotification(EXAMPLES.granted).message).breakGlass).toBe(false);
  });

  it("leaves unknown fields out instead of writing null", () => {
    const message = JSON.parse(buildNotification({ ...BASE, event: "expired" }).message);
    expect(message).toEqual({
      schema: "elevate.notification/v1",
      event: "expired",
      occurredAt: "2026-11-30T09:00:04Z",
      repository: "acme/elevate",
      breakGlass: false,
      run: BASE.run,
    });
  });

  it("the validator bites: wrong types, extra and missing fields are reported", () => {
    const schema = documentedSchema();
    const good = JSON.parse(buildNotification(EXAMPLES.granted).message);
    expect(validate(schema, { ...good, extra: 1 })).toEqual(["$: unexpected property extra"]);
    expect(validate(schema, { ...good, event: "approved" })).toEqual([
      "$.event: not one of requested,granted,refused,revoked,expired,drift",
    ]);
    expect(validate(schema, { ...good, window: { notBefore: "tomorrow" } })).toEqual([
      "$.window: missing notAfter",
      "$.window.notBefore: does not match ^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$",
    ]);
    const { breakGlass: _, ...noFlag } = good;
    expect(validate(schema, noFlag)).toEqual(["$: missing breakGlass"]);
    expect(validate(schema, { ...good, approvals: [{ login: "bob", reviewId: "1" }] })).toEqual([
      "$.approvals[0].reviewId: must be an integer",
    ]);
  });
});

describe("subjects", () => {
  it("read well in an inbox", () => {
    expect(Object.fromEntries(NOTIFICATION_EVENTS.map((t) => [t, notificationSubject(EXAMPLES[t])]))).toEqual({
      requested: "Elevate: alice requests ec2-admin (PR #42)",
      granted: "Elevate: granted alice ec2-admin until 2026-11-30 10:00 UTC",
      refused: "Elevate: refused alice (ec2-admin) [resize-web-asg]",
      revoked: "Elevate: revoked alice.smith [resize-web-asg]",
      expired: "Elevate: expired alice.smith [resize-web-asg]",
      drift: "Elevate: drift revoked on bob: elevate-handmade",
    });
    expect(notificationSubject({ ...EXAMPLES.granted, breakGlass: true })).toBe(
      "Elevate BREAK-GLASS: alice assumed ec2-admin until 2026-11-30 10:00 UTC",
    );
  });

  /** The event without requester and role, so the subject falls back to the ids. */
  const withoutWho = (event: ElevateEvent): ElevateEvent => {
    const { requester: _requester, role: _role, ...rest } = event;
    return rest as ElevateEvent;
  };

  it("are always ASCII, one line, less than 100 characters, starting with a letter or digit (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.constantFrom(...NOTIFICATION_EVENTS),
        (text, type) => {
          for (const subject of [
            snsSubject(text),
            notificationSubject({ ...EXAMPLES[type], requester: text, role: text, policyName: text }),
            // Hostile long ids (requestId and iamUser reach the subject when requester or role is absent).
            notificationSubject({
              ...withoutWho(EXAMPLES[type]),
              requestId: text,
              iamUser: text,
              policyName: `elevate-${text}`,
            }),
          ]) {
            expect(subject).toMatch(/^[A-Za-z0-9][\x20-\x7e]*$/);
            expect(subject.length).toBeLessThan(100);
          }
        },
      ),
    );
    expect(snsSubject(`x${"y".repeat(200)}`)).toBe(`x${"y".repeat(95)}...`);
    // The longest ids the schemas allow (63-character request id, 64-character IAM user, 64-character role key).
    const longest = notificationSubject({
      ...EXAMPLES.revoked,
      requester: "r".repeat(39),
      iamUser: "u".repeat(64),
      role: "k".repeat(63),
      requestId: `a${"b".repeat(62)}`,
    });
    expect(longest.length).toBe(99);
    expect(longest.endsWith("...")).toBe(true);
    expect(snsSubject("héllo\nworld")).toBe("h?llo world");
  });
});

describe("publishEvents", () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());
  const TOPIC = "arn:aws:sns:ap-northeast-1:123456789012:Elevate";

  it("publishes one message per event, in order, with subject and JSON body", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-1" });
    const warnings: string[] = [];
    const client = new SNSClient({ region: "ap-northeast-1" });
    const summary = await publishEvents(client, TOPIC, [EXAMPLES.granted, EXAMPLES.drift], (w) => warnings.push(w));
    expect(summary).toEqual({ published: ["m-1", "m-1"], failed: [] });
    expect(warnings).toEqual([]);
    const calls = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.TopicArn, c.Subject])).toEqual([
      [TOPIC, "Elevate: granted alice ec2-admin until 2026-11-30 10:00 UTC"],
      [TOPIC, "Elevate: drift revoked on bob: elevate-handmade"],
    ]);
    expect(JSON.parse(calls[0]?.Message ?? "")).toMatchObject({ event: "granted", requestId: "resize-web-asg" });
  });

  it("turns a failed publish into a warning and goes on with the others; never throws", async () => {
    sns
      .on(PublishCommand)
      .rejectsOnce(
        Object.assign(new Error("User is not authorized to perform: SNS:Publish"), { name: "AuthorizationError" }),
      )
      .resolves({ MessageId: "m-2" });
    const warnings: string[] = [];
    const client = new SNSClient({ region: "ap-northeast-1", maxAttempts: 1 });
    const summary = await publishEvents(client, TOPIC, [EXAMPLES.granted, EXAMPLES.expired], (w) => warnings.push(w));
    expect(summary.published).toEqual(["m-2"]);
    expect(summary.failed).toEqual([
      "granted resize-web-asg: AuthorizationError: User is not authorized to perform: SNS:Publish",
    ]);
    expect(warnings).toEqual([
      `could not publish the "granted resize-web-asg" notification to ${TOPIC}: AuthorizationError: User is not authorized to perform: SNS:Publish; nothing else is affected`,
    ]);
  });

  it("reports an oversized message instead of sending it", async () => {
    sns.on(PublishCommand).resolves({ MessageId: "m-3" });
    const warnings: string[] = [];
    const huge = { ...EXAMPLES.refused, file: "x".repeat(300 * 1024) };
    const summary = await publishEvents(new SNSClient({ region: "ap-northeast-1" }), TOPIC, [huge], (w) =>
      warnings.push(w),
    );
    expect(summary.failed[0]).toMatch(/over SNS's 262144-byte limit/);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("does nothing without a topic", async () => {
    const summary = await publishEvents(
      new SNSClient({ region: "ap-northeast-1" }),
      undefined,
      [EXAMPLES.granted],
      () => {
        throw new Error("no warning expected");
      },
    );
    expect(summary).toEqual({ published: [], failed: [] });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

describe("permission-set notifications", () => {
  const PS_ARN = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
  const MEMBER = "210987654321";
  const target = { identityCenterUser: "alice@acme.com", permissionSetArn: PS_ARN, accountId: MEMBER };

  it("a granted permission set carries the Identity Center user, permission set and account, and validates", () => {
    const event: ElevateEvent = {
      ...BASE,
      event: "granted",
      requestId: "rotate-prod-db",
      requester: "alice",
      role: "prod-admin",
      ...target,
      window: WINDOW,
    };
    const message = JSON.parse(buildNotification(event).message);
    expect(validate(documentedSchema(), message)).toEqual([]);
    expect(message).toMatchObject(target);
    expect(message).not.toHaveProperty("iamUser");
    expect(message).not.toHaveProperty("roleArn");
    expect(notificationSubject(event)).toBe("Elevate: granted alice prod-admin until 2026-11-30 10:00 UTC");
  });

  it("the schema refuses a malformed permission set ARN or account id", () => {
    const message = JSON.parse(
      buildNotification({ ...BASE, event: "expired", permissionSetArn: "ps-1", accountId: "2109" }).message,
    );
    expect(validate(documentedSchema(), message)).toHaveLength(2);
  });

  it("a revoke run's permission-set outcomes become revoked, expired and drift events with the three fields", () => {
    const outcome = (o: { [K in keyof PermissionSetRevokeOutcome]?: PermissionSetRevokeOutcome[K] | undefined }) =>
      ({
        reason: "expired",
        requestId: "rotate-prod-db",
        userName: "alice@acme.com",
        permissionSetArn: PS_ARN,
        accountId: MEMBER,
        window: WINDOW,
        why: "the window closed",
        status: "revoked",
        message: "assignment deleted",
        executionId: "e-1",
        ...o,
      }) as PermissionSetRevokeOutcome;
    const known = new Map<string, KnownRequest>([
      [
        "rotate-prod-db",
        {
          requestId: "rotate-prod-db",
          file: "requests/prod-admin/rotate-prod-db.yaml",
          deleted: false,
          requester: "alice",
          role: "prod-admin",
        } as KnownRequest,
      ],
    ]);
    const events = permissionSetRevokeEvents(
      {
        outcomes: [
          outcome({}),
          outcome({ reason: "revoked-early", why: "request file deleted on main" }),
          outcome({ reason: "drift", requestId: "drift-0123456789abcdef", window: undefined, why: "no grant" }),
          outcome({ reason: "expired", status: "failed" }),
          outcome({ reason: "drift", status: "planned" }),
          outcome({ reason: "drift", status: "reported", requestId: "drift-fedcba9876543210", why: "left" }),
        ],
        report: [
          {
            permissionSetArn: PS_ARN,
            accountId: MEMBER,
            principalType: "GROUP",
            principalId: "g-1",
            userName: undefined,
            why: "assigned to a group",
          },
        ],
      },
      known,
      BASE,
    );
    expect(events.map((e) => [e.event, e.drift?.action])).toEqual([
      ["expired", undefined],
      ["revoked", undefined],
      ["drift", "revoke"],
      ["drift", "report"],
      ["drift", "report"],
    ]);
    for (const e of events) {
      const message = JSON.parse(buildNotification(e).message);
      expect(validate(documentedSchema(), message)).toEqual([]);
      expect(message).toMatchObject({ permissionSetArn: PS_ARN, accountId: MEMBER });
      expect(message).not.toHaveProperty("iamUser");
    }
    expect(events[0]).toMatchObject({ ...target, requester: "alice", role: "prod-admin", executionId: "e-1" });
    expect(events[2]).toMatchObject({ ...target, drift: { kind: "unknown-assignment", action: "revoke" } });
    expect(events[2]?.detail).toBe("no grant; revoked");
    expect(events[3]).toMatchObject({ ...target, drift: { kind: "unknown-assignment", action: "report" } });
    expect(events[3]?.detail).toBe("left");
    expect(events[4]).not.toHaveProperty("identityCenterUser");
    expect(events[4]?.drift?.kind).toBe("group-assignment");
  });
});
