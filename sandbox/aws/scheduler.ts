/**
 * Amazon EventBridge Scheduler over its REST-JSON protocol (API version
 * 2021-06-30; `POST/GET/DELETE /schedules/{Name}`, `GET /schedules`,
 * `POST/GET/DELETE /schedule-groups/{Name}`; errors as the HTTP status, the
 * `x-amzn-ErrorType` header and `{"Message": …}`; timestamps as epoch seconds).
 * https://docs.aws.amazon.com/scheduler/latest/APIReference/Welcome.html
 *
 * One-time schedules (`at(yyyy-mm-ddThh:mm:ss)`) fire when the sandbox clock
 * reaches them. "All schedule types on EventBridge Scheduler invoke their
 * targets with 60 second precision … between 1:00:00 and 1:00:59" (Schedule
 * types on EventBridge Scheduler): the sandbox fires at the end of that minute,
 * the latest AWS may, plus the flexible time window, so a test that passes here
 * holds when AWS is as slow as it is allowed to be.
 *
 * Targets: universal targets only (`arn:aws:scheduler:::aws-sdk:<service>:<apiAction>`,
 * Input = the API's request as JSON; "Using universal targets",
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).
 * At invocation the sandbox assumes the target's RoleArn as scheduler.amazonaws.com
 * (aws:SourceAccount, aws:SourceArn = the schedule group's ARN) and calls the API
 * with the real SDK against itself, so the execution role's policy decides.
 * The sandbox does not retry a failed invocation (AWS retries per RetryPolicy):
 * a failure here is final, never more forgiving than AWS.
 */
import { randomUUID } from "node:crypto";
import type { AutomationExecutionRecord } from "./automation-engine.js";
import { authorizeCall, type CallContext, requirePrincipal, type SandboxCore } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type { InvocationFault } from "./knobs.js";
import { sandboxClient, sdkCommand } from "./sdk-clients.js";
import { assumeRoleAsService } from "./sts.js";
import { epochSeconds } from "./wire.js";

export interface ScheduleGroupRecord {
  accountId: string;
  name: string;
  arn: string;
  creationDate: Date;
  lastModificationDate: Date;
}

export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  DeadLetterConfig?: { Arn?: string };
}

export interface ScheduleRecord {
  accountId: string;
  groupName: string;
  name: string;
  arn: string;
  scheduleExpression: string;
  scheduleExpressionTimezone: string | undefined;
  description: string | undefined;
  state: "ENABLED" | "DISABLED";
  actionAfterCompletion: "NONE" | "DELETE";
  flexibleTimeWindow: { Mode: "OFF" | "FLEXIBLE"; MaximumWindowInMinutes?: number };
  target: ScheduleTarget;
  clientToken: string | undefined;
  creationDate: Date;
  lastModificationDate: Date;
  /** The `at()` instant. */
  scheduledTime: Date;
  /** When the sandbox fires it: the end of the precision minute plus the flexible window. */
  fireAt: Date;
  /** The one invocation has happened (kept only with ActionAfterCompletion NONE). */
  completed: boolean;
}

export interface ScheduleInvocation {
  scheduleArn: string;
  groupName: string;
  name: string;
  scheduledTime: Date;
  /** Sandbox time of the invocation. */
  time: Date;
  /** Invoked: the target API answered; Failed: it (or assuming the role) failed; Dropped: a knob dropped it. */
  outcome: "Invoked" | "Failed" | "Dropped";
  targetArn: string;
  /** The target API's response (without $metadata), when invoked. */
  response?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
}

export interface SchedulerState {
  /** `${accountId}/${groupName}`. */
  groups: Map<string, ScheduleGroupRecord>;
  /** `${accountId}/${groupName}/${name}`. */
  schedules: Map<string, ScheduleRecord>;
  invocations: ScheduleInvocation[];
}

export type RestHandler = (request: RestRequest, ctx: CallContext, core: SandboxCore) => Promise<unknown>;

export interface RestRequest {
  /** Path parameter `{Name}`, decoded. */
  name: string | undefined;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

const NAME = /^[0-9a-zA-Z-_.]+$/;
const UNIVERSAL_TARGET = /^arn:aws(-cn|-us-gov)?:scheduler:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/;
/** "EventBridge Scheduler does not support read-only API actions … that begin with the following list of prefixes". */
const READ_ONLY_PREFIXES = [
  "get",
  "describe",
  "list",
  "poll",
  "receive",
  "search",
  "scan",
  "query",
  "select",
  "read",
  "lookup",
  "discover",
  "validate",
  "batchGet",
  "batchDescribe",
  "batchRead",
  "transactGet",
  "adminGet",
  "adminList",
  "testMigration",
  "retrieve",
  "testConnection",
  "translateDocument",
  "isAuthorized",
  "invokeModel",
];
/** 60-second precision: a schedule for 1:00 fires by 1:00:59 at the latest. */
export const PRECISION_MS = 59_000;

function validation(message: string): AwsServiceError {
  return new AwsServiceError("ValidationException", message, 400);
}

function notFound(message: string): AwsServiceError {
  return new AwsServiceError("ResourceNotFoundException", message, 404);
}

function conflict(message: string): AwsServiceError {
  return new AwsServiceError("ConflictException", message, 409);
}

function constraint(field: string, value: unknown, rule: string): AwsServiceError {
  return validation(
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`,
  );
}

function checkName(field: string, value: string | undefined): string {
  if (value === undefined || value === "") throw constraint(field, null, "Member must not be null");
  if (value.length > 64) throw constraint(field, value, "Member must have length less than or equal to 64");
  if (!NAME.test(value))
    throw constraint(field, value, "Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+");
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new AwsServiceError("SerializationException", `${name} must be a string`, 400);
  return v;
}

function optionalInt(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new AwsServiceError("SerializationException", `${field} must be an integer`, 400);
  }
  if (value < min || value > max) {
    throw constraint(field, value, `Member must have value between ${min} and ${max}`);
  }
  return value;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in the schedule's time zone (the sandbox knows UTC only). */
export function parseAtExpression(expression: string, timezone: string | undefined): Date {
  const m = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (!m) {
    if (/^(rate|cron)\(/.test(expression)) {
      throw validation(`The sandbox runs one-time schedules only (at(...)); got ${expression}`);
    }
    throw validation("Invalid Schedule Expression");
  }
  if (timezone !== undefined && timezone !== "UTC" && timezone !== "Etc/UTC") {
    throw validation(`The sandbox evaluates at() expressions in UTC only; got ScheduleExpressionTimezone ${timezone}`);
  }
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    throw validation("Invalid Schedule Expression");
  }
  return date;
}

function parseTarget(value: unknown): ScheduleTarget {
  if (value === undefined || value === null) throw constraint("target", null, "Member must not be null");
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new AwsServiceError("SerializationException", "Target must be an object", 400);
  }
  const t = value as Record<string, unknown>;
  const arn = optionalString(t, "Arn");
  const roleArn = optionalString(t, "RoleArn");
  if (!arn) throw constraint("target.arn", null, "Member must not be null");
  if (!roleArn) throw constraint("target.roleArn", null, "Member must not be null");
  if (!/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[0-9a-zA-Z-_/+=,.@]+$/.test(roleArn)) {
    throw constraint(
      "target.roleArn",
      roleArn,
      "Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$",
    );
  }
  const universal = UNIVERSAL_TARGET.exec(arn);
  if (!universal) {
    throw validation(
      `The sandbox supports universal targets only (arn:aws:scheduler:::aws-sdk:<service>:<apiAction>); got ${arn}`,
    );
  }
  const action = universal[3]!;
  if (READ_ONLY_PREFIXES.some((p) => action.startsWith(p))) {
    throw validation(`Target ${arn} is not supported: EventBridge Scheduler does not support read-only API actions`);
  }
  if (!sdkCommand(universal[2]!, action)) {
    throw validation(`Target ${arn} is not an API the sandbox can call`);
  }
  const input = optionalString(t, "Input");
  if (input !== undefined) {
    if (input.length < 1 || input.length > 8192) {
      throw constraint("target.input", "…", "Member must have length between 1 and 8192");
    }
    try {
      const parsed: unknown = JSON.parse(input);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
    } catch {
      // "Input – A well-formed JSON you specify with the request parameters".
      throw validation("Universal target Input must be a well-formed JSON object");
    }
  }
  const retry = t.RetryPolicy as Record<string, unknown> | undefined;
  const retryPolicy =
    retry === undefined
      ? undefined
      : {
          MaximumEventAgeInSeconds: optionalInt(
            retry.MaximumEventAgeInSeconds,
            "target.retryPolicy.maximumEventAgeInSeconds",
            60,
            86400,
          ),
          MaximumRetryAttempts: optionalInt(
            retry.MaximumRetryAttempts,
            "target.retryPolicy.maximumRetryAttempts",
            0,
            185,
          ),
        };
  for (const key of Object.keys(t)) {
    if (!["Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig"].includes(key)) {
      throw validation(`Target.${key} is not supported by the sandbox (universal targets take Arn, RoleArn, Input)`);
    }
  }
  return {
    Arn: arn,
    RoleArn: roleArn,
    ...(input !== undefined ? { Input: input } : {}),
    ...(retryPolicy
      ? { RetryPolicy: JSON.parse(JSON.stringify(retryPolicy)) as NonNullable<ScheduleTarget["RetryPolicy"]> }
      : {}),
    ...(t.DeadLetterConfig ? { DeadLetterConfig: t.DeadLetterConfig as { Arn?: string } } : {}),
  };
}

function scheduleJson(s: ScheduleRecord) {
  return {
    Arn: s.arn,
    GroupName: s.groupName,
    Name: s.name,
    ScheduleExpression: s.scheduleExpression,
    ScheduleExpressionTimezone: s.scheduleExpressionTimezone,
    Description: s.description,
    State: s.state,
    CreationDate: epochSeconds(s.creationDate),
    LastModificationDate: epochSeconds(s.lastModificationDate),
    Target: s.target,
    FlexibleTimeWindow: s.flexibleTimeWindow,
    ActionAfterCompletion: s.actionAfterCompletion,
  };
}

function groupJson(g: ScheduleGroupRecord) {
  return {
    Arn: g.arn,
    Name: g.name,
    State: "ACTIVE",
    CreationDate: epochSeconds(g.creationDate),
    LastModificationDate: epochSeconds(g.lastModificationDate),
  };
}

function pageOf<T>(rows: T[], query: URLSearchParams): { page: T[]; next: string | undefined } {
  const maxRaw = query.get("MaxResults");
  const max = maxRaw === null ? 100 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw constraint("maxResults", maxRaw, "Member must have value between 1 and 100");
  }
  const token = query.get("NextToken");
  let start = 0;
  if (token !== null) {
    start = Number(Buffer.from(token, "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) throw validation("Invalid NextToken");
  }
  const page = rows.slice(start, start + max);
  const next = start + max < rows.length ? Buffer.from(String(start + max)).toString("base64url") : undefined;
  return { page, next };
}

export interface SchedulerDeps {
  state: SchedulerState;
  /** The automation executions, so `settle` can wait for the runbooks a schedule started. */
  executions: Map<string, AutomationExecutionRecord>;
  takeInvocationFault(): InvocationFault | undefined;
  invocationDelayMs(): number;
}

export interface SchedulerService {
  handlers: Record<string, RestHandler>;
  /** Fires every schedule due at the sandbox clock's now (without waiting for the invocations). */
  fireDue(): void;
  /** Resolves when no invocation is in flight and every automation execution a schedule started is done. */
  settle(): Promise<void>;
  /** Makes sure `accountId` has the `default` group AWS creates for every account. */
  ensureDefaultGroup(accountId: string): void;
}

export function schedulerService(core: SandboxCore, deps: SchedulerDeps): SchedulerService {
  const { state } = deps;
  const inFlight = new Set<Promise<void>>();
  const region = core.region;
  const groupArn = (account: string, group: string) => `arn:aws:scheduler:${region}:${account}:schedule-group/${group}`;
  const scheduleArn = (account: string, group: string, name: string) =>
    `arn:aws:scheduler:${region}:${account}:schedule/${group}/${name}`;

  function ensureDefaultGroup(accountId: string): void {
    const key = `${accountId}/default`;
    if (state.groups.has(key)) return;
    const now = core.clock.now();
    state.groups.set(key, {
      accountId,
      name: "default",
      arn: groupArn(accountId, "default"),
      creationDate: now,
      lastModificationDate: now,
    });
  }

  function findGroup(account: string, name: string): ScheduleGroupRecord {
    ensureDefaultGroup(account);
    const g = state.groups.get(`${account}/${name}`);
    if (!g) throw notFound(`Schedule group ${name} does not exist.`);
    return g;
  }

  function findSchedule(account: string, group: string, name: string): ScheduleRecord {
    const s = state.schedules.get(`${account}/${group}/${name}`);
    if (!s) throw notFound(`Schedule ${name} does not exist.`);
    return s;
  }

  const handlers: Record<string, RestHandler> = {
    async CreateSchedule(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      const groupName = checkName("groupName", optionalString(req.body, "GroupName") ?? "default");
      const expression = optionalString(req.body, "ScheduleExpression");
      if (!expression) throw constraint("scheduleExpression", null, "Member must not be null");
      const timezone = optionalString(req.body, "ScheduleExpressionTimezone");
      const scheduledTime = parseAtExpression(expression, timezone);
      const window = req.body.FlexibleTimeWindow as Record<string, unknown> | undefined;
      if (!window || typeof window !== "object")
        throw constraint("flexibleTimeWindow", null, "Member must not be null");
      const mode = window.Mode;
      if (mode !== "OFF" && mode !== "FLEXIBLE") {
        throw constraint("flexibleTimeWindow.mode", mode, "Member must satisfy enum value set: [OFF, FLEXIBLE]");
      }
      const windowMinutes = optionalInt(
        window.MaximumWindowInMinutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        1,
        1440,
      );
      if (mode === "FLEXIBLE" && windowMinutes === undefined) {
        throw validation("MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE");
      }
      if (mode === "OFF" && windowMinutes !== undefined) {
        throw validation("MaximumWindowInMinutes must not be set when FlexibleTimeWindow Mode is OFF");
      }
      const target = parseTarget(req.body.Target);
      const stateValue = optionalString(req.body, "State") ?? "ENABLED";
      if (stateValue !== "ENABLED" && stateValue !== "DISABLED") {
        throw constraint("state", stateValue, "Member must satisfy enum value set: [ENABLED, DISABLED]");
      }
      const after = optionalString(req.body, "ActionAfterCompletion") ?? "NONE";
      if (after !== "NONE" && after !== "DELETE") {
        throw constraint("actionAfterCompletion", after, "Member must satisfy enum value set: [NONE, DELETE]");
      }
      const description = optionalString(req.body, "Description");
      if (description !== undefined && description.length > 512) {
        throw constraint("description", "…", "Member must have length less than or equal to 512");
      }
      const clientToken = optionalString(req.body, "ClientToken");
      if (clientToken !== undefined && (clientToken.length < 1 || clientToken.length > 64)) {
        throw constraint("clientToken", clientToken, "Member must have length between 1 and 64");
      }
      for (const unsupported of ["StartDate", "EndDate", "KmsKeyArn"]) {
        if (req.body[unsupported] !== undefined) throw validation(`${unsupported} is not supported by the sandbox`);
      }
      const arn = scheduleArn(account, groupName, name);
      await authorizeCall(ctx, { action: "scheduler:CreateSchedule", resource: arn, resourceAccountId: account });
      // "iam:PassRole … iam:PassedToService scheduler.amazonaws.com" (CreateSchedule's dependent action).
      await authorizeCall(ctx, {
        action: "iam:PassRole",
        resource: target.RoleArn,
        resourceAccountId: /^arn:[^:]+:iam::(\d{12}):/.exec(target.RoleArn)?.[1] ?? account,
        extraContext: { "iam:PassedToService": "scheduler.amazonaws.com" },
      });
      findGroup(account, groupName);
      const key = `${account}/${groupName}/${name}`;
      const existing = state.schedules.get(key);
      if (existing) {
        // A retry with the same idempotency token gets the same answer.
        if (clientToken !== undefined && existing.clientToken === clientToken) return { ScheduleArn: existing.arn };
        throw conflict(`Schedule ${name} already exists.`);
      }
      const now = ctx.now;
      const fireAt = new Date(scheduledTime.getTime() + PRECISION_MS + (windowMinutes ?? 0) * 60_000);
      state.schedules.set(key, {
        accountId: account,
        groupName,
        name,
        arn,
        scheduleExpression: expression,
        scheduleExpressionTimezone: timezone,
        description,
        state: stateValue,
        actionAfterCompletion: after,
        flexibleTimeWindow: {
          Mode: mode,
          ...(windowMinutes !== undefined ? { MaximumWindowInMinutes: windowMinutes } : {}),
        },
        target,
        clientToken,
        creationDate: now,
        lastModificationDate: now,
        scheduledTime,
        fireAt,
        // A one-time schedule whose minute has already passed is never invoked here:
        // the sandbox does not assume AWS catches up on it.
        completed: fireAt.getTime() < now.getTime(),
      });
      // A schedule due now fires on the next clock move or tick, like any other.
      return { ScheduleArn: arn };
    },

    async GetSchedule(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      const groupName = checkName("groupName", req.query.get("groupName") ?? "default");
      await authorizeCall(ctx, {
        action: "scheduler:GetSchedule",
        resource: scheduleArn(account, groupName, name),
        resourceAccountId: account,
      });
      findGroup(account, groupName);
      return scheduleJson(findSchedule(account, groupName, name));
    },

    async DeleteSchedule(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      const groupName = checkName("groupName", req.query.get("groupName") ?? "default");
      await authorizeCall(ctx, {
        action: "scheduler:DeleteSchedule",
        resource: scheduleArn(account, groupName, name),
        resourceAccountId: account,
      });
      findGroup(account, groupName);
      findSchedule(account, groupName, name);
      state.schedules.delete(`${account}/${groupName}/${name}`);
      return {};
    },

    async ListSchedules(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      await authorizeCall(ctx, { action: "scheduler:ListSchedules", resource: "*", resourceAccountId: account });
      const group = req.query.get("ScheduleGroup");
      const prefix = req.query.get("NamePrefix");
      const stateFilter = req.query.get("State");
      if (stateFilter !== null && stateFilter !== "ENABLED" && stateFilter !== "DISABLED") {
        throw constraint("state", stateFilter, "Member must satisfy enum value set: [ENABLED, DISABLED]");
      }
      const rows = [...state.schedules.values()]
        .filter(
          (s) =>
            s.accountId === account &&
            (group === null || s.groupName === group) &&
            (prefix === null || s.name.startsWith(prefix)) &&
            (stateFilter === null || s.state === stateFilter),
        )
        .sort((a, b) => (a.groupName + a.name < b.groupName + b.name ? -1 : 1));
      const { page, next } = pageOf(rows, req.query);
      return {
        Schedules: page.map((s) => ({
          Arn: s.arn,
          Name: s.name,
          GroupName: s.groupName,
          State: s.state,
          CreationDate: epochSeconds(s.creationDate),
          LastModificationDate: epochSeconds(s.lastModificationDate),
          Target: { Arn: s.target.Arn },
        })),
        NextToken: next,
      };
    },

    async CreateScheduleGroup(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      const arn = groupArn(account, name);
      await authorizeCall(ctx, { action: "scheduler:CreateScheduleGroup", resource: arn, resourceAccountId: account });
      ensureDefaultGroup(account);
      if (state.groups.has(`${account}/${name}`)) throw conflict(`Schedule group ${name} already exists.`);
      const now = ctx.now;
      state.groups.set(`${account}/${name}`, {
        accountId: account,
        name,
        arn,
        creationDate: now,
        lastModificationDate: now,
      });
      return { ScheduleGroupArn: arn };
    },

    async GetScheduleGroup(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      await authorizeCall(ctx, {
        action: "scheduler:GetScheduleGroup",
        resource: groupArn(account, name),
        resourceAccountId: account,
      });
      return groupJson(findGroup(account, name));
    },

    async DeleteScheduleGroup(req, ctx) {
      const account = requirePrincipal(ctx).accountId;
      const name = checkName("name", req.name);
      await authorizeCall(ctx, {
        action: "scheduler:DeleteScheduleGroup",
        resource: groupArn(account, name),
        resourceAccountId: account,
      });
      if (name === "default") throw validation("The default schedule group cannot be deleted.");
      findGroup(account, name);
      // Deleting a group deletes its schedules.
      for (const [key, s] of state.schedules) {
        if (s.accountId === account && s.groupName === name) state.schedules.delete(key);
      }
      state.groups.delete(`${account}/${name}`);
      return {};
    },
  };

  function record(
    s: ScheduleRecord,
    outcome: Omit<ScheduleInvocation, "scheduleArn" | "groupName" | "name" | "scheduledTime" | "targetArn">,
  ) {
    state.invocations.push({
      scheduleArn: s.arn,
      groupName: s.groupName,
      name: s.name,
      scheduledTime: s.scheduledTime,
      targetArn: s.target.Arn,
      ...outcome,
    });
  }

  async function invoke(s: ScheduleRecord): Promise<void> {
    const time = core.clock.now();
    const [, , service, action] = UNIVERSAL_TARGET.exec(s.target.Arn) as unknown as [string, string, string, string];
    const found = sdkCommand(service, action);
    let credential: ReturnType<typeof assumeRoleAsService>;
    try {
      credential = assumeRoleAsService(core, {
        roleArn: s.target.RoleArn,
        servicePrincipal: "scheduler.amazonaws.com",
        sourceAccount: s.accountId,
        sourceArn: groupArn(s.accountId, s.groupName),
        sessionName: randomUUID().replace(/-/g, "").slice(0, 32),
      });
    } catch (err) {
      const e = err as AwsServiceError;
      record(s, { time, outcome: "Failed", errorCode: e.code ?? "AccessDenied", errorMessage: e.message });
      return;
    }
    // Context attributes a universal target's Input may use ("Adding context attributes").
    const input = (s.target.Input ?? "{}")
      .replaceAll("<aws.scheduler.schedule-arn>", s.arn)
      .replaceAll("<aws.scheduler.scheduled-time>", `${s.scheduledTime.toISOString().slice(0, 19)}Z`)
      .replaceAll("<aws.scheduler.execution-id>", randomUUID())
      .replaceAll("<aws.scheduler.attempt-number>", "1");
    const client = sandboxClient(core, found!.client, credential, 1);
    try {
      const response = (await client.send(new found!.Command(JSON.parse(input)))) as Record<string, unknown>;
      const { $metadata: _m, ...body } = response;
      record(s, { time, outcome: "Invoked", response: body });
    } catch (err) {
      const e = err as { name?: string; message?: string };
      record(s, { time, outcome: "Failed", errorCode: e.name ?? "Error", errorMessage: e.message ?? "" });
    } finally {
      client.destroy();
    }
  }

  function complete(s: ScheduleRecord): void {
    s.completed = true;
    if (s.actionAfterCompletion === "DELETE") state.schedules.delete(`${s.accountId}/${s.groupName}/${s.name}`);
  }

  function track(p: Promise<void>): void {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  function fireDue(): void {
    const now = core.clock.now().getTime();
    const delay = deps.invocationDelayMs();
    const due = [...state.schedules.values()]
      .filter((s) => !s.completed && s.state === "ENABLED" && s.fireAt.getTime() + delay <= now)
      .sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime());
    for (const s of due) {
      // Marked before the (async) invocation, so a second clock move cannot fire it again.
      s.completed = true;
      const fault = deps.takeInvocationFault();
      if (fault?.kind === "drop") {
        record(s, { time: core.clock.now(), outcome: "Dropped" });
        complete(s);
        continue;
      }
      if (fault?.kind === "fail") {
        record(s, {
          time: core.clock.now(),
          outcome: "Failed",
          errorCode: fault.errorCode,
          errorMessage: "Injected failure (sandbox knobs.failNextInvocation)",
        });
        complete(s);
        continue;
      }
      const times = fault?.kind === "duplicate" ? 2 : 1;
      track(
        (async () => {
          for (let i = 0; i < times; i++) await invoke(s);
          complete(s);
        })(),
      );
    }
  }

  async function settle(): Promise<void> {
    for (;;) {
      if (inFlight.size > 0) {
        await Promise.allSettled([...inFlight]);
        continue;
      }
      const started = state.invocations
        .map((i) => i.response?.AutomationExecutionId)
        .filter((id): id is string => typeof id === "string")
        .map((id) => deps.executions.get(id))
        .filter((e): e is AutomationExecutionRecord => e !== undefined);
      await Promise.allSettled(started.map((e) => e.done));
      if (inFlight.size === 0) return;
    }
  }

  return { handlers, fireDue, settle, ensureDefaultGroup };
}

/** Maps a REST-JSON request (method + path) to a Scheduler operation and its `{Name}`. */
export function routeSchedulerRequest(
  method: string,
  path: string,
): { action: string; name: string | undefined } | undefined {
  const m = /^\/(schedules|schedule-groups)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  const kind = m[1] === "schedules" ? "Schedule" : "ScheduleGroup";
  const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  if (name === undefined) return method === "GET" ? { action: `List${kind}s`, name } : undefined;
  switch (method) {
    case "POST":
      return { action: `Create${kind}`, name };
    case "GET":
      return { action: `Get${kind}`, name };
    case "DELETE":
      return { action: `Delete${kind}`, name };
    case "PUT":
      return kind === "Schedule" ? { action: "UpdateSchedule", name } : undefined;
    default:
      return undefined;
  }
}
