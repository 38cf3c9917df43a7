/**
 * `startAwsSandbox`: one local HTTP server on 127.0.0.1 (ephemeral port) that
 * stands in for IAM, STS, SNS (AWS query protocol), SSM, sso-admin, identitystore (AWS JSON 1.1) and
 * EventBridge Scheduler (REST-JSON), for the unmodified AWS SDK v3 clients. Every signed request is SigV4-verified
 * against credentials the sandbox issued, authorized with iam-simulate, and
 * recorded in `callLog`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AutomationExecutionRecord } from "./automation-engine.js";
import { createClock, type SandboxClock } from "./clock.js";
import type { CallContext, SandboxCore, ServiceName } from "./context.js";
import { AwsServiceError } from "./errors.js";
import { iamHandlers, type QueryHandler, unknownAction } from "./iam.js";
import { type IamRole, IamStore, type IamUser, type IssuedCredential, type Principal } from "./iam-store.js";
import { IdentityCenter } from "./identity-center.js";
import { identityStoreHandlers, ssoAdminHandlers } from "./identity-center-api.js";
import { requestId as newRequestId } from "./ids.js";
import { createKnobs, type SandboxKnobs } from "./knobs.js";
import {
  type RestHandler,
  routeSchedulerRequest,
  type ScheduleGroupRecord,
  type ScheduleInvocation,
  type ScheduleRecord,
  type SchedulerState,
  schedulerService,
} from "./scheduler.js";
import { AuthError, type AuthFailure, parseAuthorization, verifySignature } from "./sigv4.js";
import { type PublishedMessage, type SnsState, snsHandlers } from "./sns.js";
import { type JsonHandler, type SsmDocument, type SsmState, ssmHandlers } from "./ssm.js";
import { stsHandlers, type TrustedIssuer, TrustedIssuers } from "./sts.js";
import { jsonError, parseForm, queryError, queryResponse } from "./wire.js";

export interface AwsSandboxOptions {
  /** Default "ap-northeast-1". */
  region?: string;
  /** Account ids; the first is the default account. Default ["123456789012"]. */
  accountIds?: string[];
  /** Initial sandbox time. Default: real time. */
  now?: Date;
  /** "following" (default) advances with real time; "frozen" moves only by clock.set/advance. */
  clockMode?: "following" | "frozen";
  /** OIDC issuers whose RS256 tokens AssumeRoleWithWebIdentity accepts. */
  trustedIssuers?: TrustedIssuer[];
  /** Seed of the throttling generator. Default 1. */
  seed?: number;
}

export interface CallLogEntry {
  service: ServiceName;
  action: string;
  /** ARN of the signer; "anonymous" for unsigned calls; the service principal for engine-internal assumptions. */
  principal: string;
  /** Request parameters, long values shortened. */
  params: Record<string, string>;
  time: Date;
  requestId: string;
  /** "ok" or the error code returned. */
  outcome: string;
  httpStatus: number;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsSandboxState {
  /** The IAM store (users, roles, inline policies, OIDC providers, credentials). */
  iam: IamStore;
  user(userName: string, accountId?: string): IamUser | undefined;
  role(roleName: string, accountId?: string): IamRole | undefined;
  /** Decoded inline policy documents of a user / role, by policy name. */
  userPolicies(userName: string, accountId?: string): Record<string, unknown>;
  rolePolicies(roleName: string, accountId?: string): Record<string, unknown>;
  /** Creates an access key for a user (fixture shortcut for CreateAccessKey). */
  createAccessKey(userName: string, accountId?: string): Credentials;
  documents: Map<string, SsmDocument>;
  executions: Map<string, AutomationExecutionRecord>;
  /** Waits until the engine has finished an execution. */
  waitForExecution(executionId: string): Promise<AutomationExecutionRecord>;
  topics: Set<string>;
  published: PublishedMessage[];
  /** EventBridge Scheduler schedules, keyed `${accountId}/${groupName}/${name}`. */
  schedules: Map<string, ScheduleRecord>;
  scheduleGroups: Map<string, ScheduleGroupRecord>;
  /** Every time a schedule fired (or a knob dropped or failed it), in order. */
  scheduleInvocations: ScheduleInvocation[];
  /** IAM Identity Center: instance, identity store users, permission sets, assignments, portal sign-in. */
  identityCenter: IdentityCenter;
  /**
   * Fires the schedules due at the sandbox clock, then waits until no invocation is
   * in flight and every automation execution a schedule started is done. Moving the
   * clock (set/advance) fires them too; await this before looking at the outcome.
   */
  settleSchedules(): Promise<void>;
}

export interface AwsSandbox {
  endpoint: string;
  region: string;
  defaultAccountId: string;
  /** Environment a child process needs to reach the sandbox (endpoints, region); no credentials. */
  env: Record<string, string>;
  /** Account admin of the default account: allowed everything (except what AWS forbids root, e.g. AssumeRole). */
  rootCredentials: Credentials;
  rootCredentialsFor(accountId: string): Credentials;
  /** Adds an empty account (an account joining the organization later); no-op if it exists. */
  addAccount(accountId: string): void;
  /** Environment variables for the given credentials (AWS_ACCESS_KEY_ID, …). */
  credentialsEnv(credentials: Credentials): Record<string, string>;
  clock: SandboxClock;
  knobs: SandboxKnobs;
  callLog: CallLogEntry[];
  /** Call-log entries of one action (e.g. "PutUserPolicy"). */
  calls(action: string, service?: ServiceName): CallLogEntry[];
  addTrustedIssuer(issuer: TrustedIssuer): void;
  state: AwsSandboxState;
  close(): Promise<void>;
}

const QUERY_VERSIONS: Record<string, { service: "iam" | "sts" | "sns"; xmlns: string }> = {
  "2010-05-08": { service: "iam", xmlns: "https://iam.amazonaws.com/doc/2010-05-08/" },
  "2011-06-15": { service: "sts", xmlns: "https://sts.amazonaws.com/doc/2011-06-15/" },
  "2010-03-31": { service: "sns", xmlns: "http://sns.amazonaws.com/doc/2010-03-31/" },
};

/** Unsigned STS actions: the web identity token is the credential. */
const UNSIGNED = new Set(["sts:AssumeRoleWithWebIdentity"]);

function throttlingError(service: ServiceName): AwsServiceError {
  switch (service) {
    case "ssm":
      return new AwsServiceError("ThrottlingException", "Rate exceeded", 400);
    case "sso":
    case "identitystore":
      return new AwsServiceError("ThrottlingException", "Rate exceeded", 429);
    case "sns":
      return new AwsServiceError("Throttling", "Rate exceeded", 400);
    case "scheduler":
      return new AwsServiceError("ThrottlingException", "Rate exceeded", 429);
    default:
      return new AwsServiceError("Throttling", "Rate exceeded", 400);
  }
}

/** HTTP status for an error code injected with knobs.failNext, following each service's model. */
function injectedStatus(code: string): number {
  // EventBridge Scheduler's modeled errors (REST-JSON: the status is the error's).
  const scheduler: Record<string, number> = {
    ResourceNotFoundException: 404,
    ConflictException: 409,
    ThrottlingException: 429,
    ServiceQuotaExceededException: 402,
    InternalServerException: 500,
    ValidationException: 400,
  };
  if (scheduler[code] !== undefined) return scheduler[code];
  if (/^(ServiceFailure|InternalServerError|InternalError|InternalFailure|ServiceUnavailable)$/.test(code)) return 500;
  if (/^(NoSuchEntity|NotFound|ResourceNotFound)$/.test(code)) return 404;
  if (/^(EntityAlreadyExists|LimitExceeded|DeleteConflict|ConcurrentModification)$/.test(code)) return 409;
  if (/^(AccessDenied|AuthorizationError|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch)$/.test(code))
    return 403;
  return 400;
}

function authErrorFor(service: ServiceName, failure: AuthFailure): AwsServiceError {
  if (service === "scheduler") {
    // REST-JSON services answer authentication failures with 403 and the JSON error names.
    const code = {
      missing: "MissingAuthenticationTokenException",
      malformed: "IncompleteSignatureException",
      "unknown-key": "UnrecognizedClientException",
      "bad-token": "UnrecognizedClientException",
      "bad-signature": "InvalidSignatureException",
      expired: "ExpiredTokenException",
    }[failure.kind];
    return new AwsServiceError(code, failure.message, 403);
  }
  const json = service === "ssm" || service === "sso" || service === "identitystore";
  switch (failure.kind) {
    case "missing":
      return new AwsServiceError(
        json ? "MissingAuthenticationTokenException" : "MissingAuthenticationToken",
        failure.message,
        json ? 400 : 403,
      );
    case "malformed":
      return new AwsServiceError(
        json ? "IncompleteSignatureException" : "IncompleteSignature",
        failure.message,
        json ? 400 : 403,
      );
    case "unknown-key":
    case "bad-token":
      return new AwsServiceError(
        json ? "UnrecognizedClientException" : "InvalidClientTokenId",
        failure.message,
        json ? 400 : 403,
      );
    case "bad-signature":
      return new AwsServiceError(
        json ? "InvalidSignatureException" : "SignatureDoesNotMatch",
        failure.message,
        json ? 400 : 403,
      );
    case "expired":
      return new AwsServiceError(json ? "ExpiredTokenException" : "ExpiredToken", failure.message, json ? 400 : 403);
  }
}

function summarize(entries: Iterable<[string, unknown]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k === "Action" || k === "Version") continue;
    const text = typeof v === "string" ? v : JSON.stringify(v);
    // Never log secrets the caller sent (web identity tokens).
    out[k] = k === "WebIdentityToken" ? "<redacted>" : text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 1024 * 1024) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startAwsSandbox(options: AwsSandboxOptions = {}): Promise<AwsSandbox> {
  const region = options.region ?? "ap-northeast-1";
  const clock = createClock(options.now, options.clockMode);
  const { knobs, takeFailure, takeHook, shouldThrottle, takeInvocationFault } = createKnobs(options.seed ?? 1);
  const store = new IamStore(options.accountIds ?? ["123456789012"], () => clock.now());
  const rootByAccount = new Map<string, IssuedCredential>();
  for (const id of store.accounts.keys()) rootByAccount.set(id, store.rootCredential(id));
  const issuers = new TrustedIssuers();
  for (const issuer of options.trustedIssuers ?? []) issuers.add(issuer);

  let endpoint = "";
  const core: SandboxCore = { store, clock, region, endpoint: () => endpoint };
  const snsState: SnsState = { topics: new Set(), published: [] };
  const ssmState: SsmState = { documents: new Map(), executions: new Map(), clientTokens: new Map() };
  const schedulerState: SchedulerState = { groups: new Map(), schedules: new Map(), invocations: [] };
  const scheduler = schedulerService(core, {
    state: schedulerState,
    executions: ssmState.executions,
    takeInvocationFault,
    invocationDelayMs: () => knobs.invocationDelayMs,
  });
  for (const id of store.accounts.keys()) scheduler.ensureDefaultGroup(id);
  clock.onMove(() => scheduler.fireDue());
  // A following clock moves with real time: look for due schedules every second.
  const ticker = clock.following ? setInterval(() => scheduler.fireDue(), 1000) : undefined;
  ticker?.unref();
  const callLog: CallLogEntry[] = [];
  /** Request id -> signing credential, for handlers that need the caller's key (SSM without assumeRole). */
  const credentialByRequest = new Map<string, IssuedCredential>();

  const queryHandlers: Record<"iam" | "sts" | "sns", Record<string, QueryHandler>> = {
    iam: iamHandlers,
    sts: stsHandlers({ issuers }),
    sns: snsHandlers(snsState),
  };
  const identityCenter = new IdentityCenter(store, store.defaultAccountId, region, () => clock.now());
  /** AWS JSON 1.1 services by X-Amz-Target prefix (the Smithy service shape name). */
  const jsonServices: Record<string, { service: ServiceName; label: string; handlers: Record<string, JsonHandler> }> =
    {};
  jsonServices.SWBExternalService = { service: "sso", label: "sso-admin", handlers: ssoAdminHandlers(identityCenter) };
  jsonServices.AWSIdentityStore = {
    service: "identitystore",
    label: "identitystore",
    handlers: identityStoreHandlers(identityCenter),
  };
  const jsonHandlers: Record<string, JsonHandler> = ssmHandlers({
    state: ssmState,
    engine: { stepLatencyMs: () => knobs.latencyMs },
    credentialOf: (ctx) => credentialByRequest.get(ctx.requestId),
  });

  function authenticate(req: IncomingMessage, body: Buffer, service: ServiceName): IssuedCredential {
    const auth = parseAuthorization(req.headers.authorization);
    if (auth.service !== service) {
      throw new AuthError({
        kind: "malformed",
        message: `Credential should be scoped to correct service: '${service}'.`,
      });
    }
    const cred = store.credentials.get(auth.accessKeyId);
    if (!cred)
      throw new AuthError({ kind: "unknown-key", message: "The security token included in the request is invalid." });
    verifySignature(
      { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body },
      auth,
      cred.secretAccessKey,
    );
    const token = req.headers["x-amz-security-token"];
    if ((cred.sessionToken ?? undefined) !== (typeof token === "string" ? token : undefined)) {
      throw new AuthError({ kind: "bad-token", message: "The security token included in the request is invalid." });
    }
    if (cred.expiration && cred.expiration.getTime() <= clock.now().getTime()) {
      throw new AuthError({ kind: "expired", message: "The security token included in the request is expired" });
    }
    // Temporary credentials of a deleted role stop working, like in IAM.
    if (cred.principal.kind === "role-session" && store.roleByArn(cred.principal.role.arn) !== cred.principal.role) {
      throw new AuthError({ kind: "bad-token", message: "The security token included in the request is invalid." });
    }
    return cred;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const body = await readBody(req);
    const target = req.headers["x-amz-target"];
    let service: ServiceName;
    let action: string;
    let params: Record<string, string>;
    let run: (ctx: CallContext) => Promise<{ status: number; contentType: string; payload: string }>;
    let renderError: (e: AwsServiceError) => { contentType: string; payload: string };

    const url = new URL(req.url ?? "/", "http://sandbox");
    const schedulerRoute =
      typeof target === "string" ? undefined : routeSchedulerRequest(req.method ?? "GET", url.pathname);
    if (schedulerRoute || (typeof target !== "string" && /^\/schedule(s|-groups)(\/|$)/.test(url.pathname))) {
      const parsed = (() => {
        try {
          return body.length === 0 ? {} : (JSON.parse(body.toString("utf8")) as Record<string, unknown>);
        } catch {
          return undefined;
        }
      })();
      service = "scheduler";
      action = schedulerRoute?.action ?? `${req.method} ${url.pathname}`;
      params = {
        ...(schedulerRoute?.name !== undefined ? { Name: schedulerRoute.name } : {}),
        ...Object.fromEntries(url.searchParams),
        ...(parsed ? summarize(Object.entries(parsed)) : {}),
      };
      renderError = (e) => ({ contentType: "application/json", payload: JSON.stringify({ Message: e.message }) });
      run = async (ctx) => {
        const handler: RestHandler | undefined = schedulerRoute ? scheduler.handlers[schedulerRoute.action] : undefined;
        if (!handler) {
          throw new AwsServiceError(
            "UnknownOperationException",
            `The sandbox does not implement Scheduler ${req.method} ${url.pathname}`,
            404,
          );
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new AwsServiceError("SerializationException", "Request body is not a JSON object", 400);
        }
        const result = await handler({ name: schedulerRoute?.name, query: url.searchParams, body: parsed }, ctx, core);
        return { status: 200, contentType: "application/json", payload: JSON.stringify(result) };
      };
    } else if (typeof target === "string") {
      const m = /^(AmazonSSM|SWBExternalService|AWSIdentityStore)\.(\w+)$/.exec(target);
      const json = m && m[1] !== "AmazonSSM" ? jsonServices[m[1]!] : undefined;
      const parsed = (() => {
        try {
          return body.length === 0 ? {} : (JSON.parse(body.toString("utf8")) as Record<string, unknown>);
        } catch {
          return undefined;
        }
      })();
      service = json?.service ?? "ssm";
      action = m?.[2] ?? target;
      params = parsed ? summarize(Object.entries(parsed)) : {};
      renderError = (e) => ({ contentType: "application/x-amz-json-1.1", payload: jsonError(e) });
      run = async (ctx) => {
        if (!m) throw new AwsServiceError("UnknownOperationException", `Unknown target ${target}`, 400);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new AwsServiceError("SerializationException", "Request body is not a JSON object", 400);
        }
        const handler = (json?.handlers ?? jsonHandlers)[action];
        if (!handler)
          throw new AwsServiceError(
            "UnknownOperationException",
            `The sandbox does not implement ${json?.label ?? "SSM"} ${action}`,
            400,
          );
        const result = await handler(parsed, ctx, core);
        return { status: 200, contentType: "application/x-amz-json-1.1", payload: JSON.stringify(result) };
      };
    } else {
      const form = parseForm(body.toString("utf8"));
      const version = QUERY_VERSIONS[form.get("Version") ?? ""];
      action = form.get("Action") ?? "";
      params = summarize(form.entries());
      service = version?.service ?? "iam";
      renderError = (e) => ({ contentType: "text/xml", payload: queryError(e, requestId) });
      run = async (ctx) => {
        if (!version)
          throw new AwsServiceError(
            "InvalidParameterValue",
            `Unknown or missing Version '${form.get("Version") ?? ""}'`,
            400,
          );
        const handler = queryHandlers[version.service][action];
        if (!handler) throw unknownAction(version.service, action);
        const result = await handler(form, ctx, core);
        return {
          status: 200,
          contentType: "text/xml",
          payload: queryResponse(action, version.xmlns, result, requestId),
        };
      };
    }

    let principal: Principal | undefined;
    let status = 200;
    let outcome = "ok";
    let contentType: string;
    let payload: string;
    try {
      if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
      if (!UNSIGNED.has(`${service}:${action}`)) {
        try {
          const cred = authenticate(req, body, service);
          principal = cred.principal;
          credentialByRequest.set(requestId, cred);
        } catch (err) {
          if (err instanceof AuthError) throw authErrorFor(service, err.failure);
          throw err;
        }
      }
      if (shouldThrottle()) throw throttlingError(service);
      const injected = takeFailure(action);
      if (injected !== undefined) {
        throw new AwsServiceError(
          injected,
          `Injected failure for ${action} (sandbox knobs.failNext)`,
          injectedStatus(injected),
        );
      }
      // knobs.beforeNext: a test's concurrent change lands here, before this call acts.
      const hook = takeHook(action);
      if (hook) await hook();
      const ctx: CallContext = { service, action, principal, region, requestId, now: clock.now() };
      ({ status, contentType, payload } = await run(ctx));
    } catch (err) {
      const e =
        err instanceof AwsServiceError
          ? err
          : new AwsServiceError(
              service === "ssm" ? "InternalServerError" : "ServiceFailure",
              `Sandbox error: ${(err as Error).message}`,
              500,
            );
      status = e.httpStatus;
      outcome = e.code;
      ({ contentType, payload } = renderError(e));
    } finally {
      credentialByRequest.delete(requestId);
    }
    callLog.push({
      service,
      action,
      principal: principal?.arn ?? "anonymous",
      params,
      time: clock.now(),
      requestId,
      outcome,
      httpStatus: status,
    });
    res.writeHead(status, {
      "content-type": contentType,
      "x-amzn-requestid": requestId,
      // REST-JSON errors name their type in this header (the body has only the message).
      ...(service === "scheduler" && outcome !== "ok" ? { "x-amzn-errortype": outcome } : {}),
      // AWS's clock is the sandbox's: the Date header (which Node would otherwise fill
      // with the host's time) is how clients learn it (src/adapters/aws-clock.ts).
      date: clock.now().toUTCString(),
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`sandbox failure: ${(err as Error).message}`);
    });
  });
  // Tests block the event loop (python steps, policy simulation), and under load a pooled
  // socket can sit idle past Node's 5 s default: the server would close it just as the SDK
  // reuses it ("socket hang up", ECONNRESET). As the GitHub sandbox does.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const toCredentials = (c: IssuedCredential): Credentials => ({
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
  });
  const decodeAll = (policies: Map<string, string> | undefined): Record<string, unknown> =>
    Object.fromEntries([...(policies ?? new Map<string, string>())].map(([n, t]) => [n, JSON.parse(t) as unknown]));

  const sandbox: AwsSandbox = {
    endpoint,
    region,
    defaultAccountId: store.defaultAccountId,
    env: {
      AWS_ENDPOINT_URL_IAM: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
      AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_ENDPOINT_URL_SNS: endpoint,
      AWS_ENDPOINT_URL_SCHEDULER: endpoint,
      // The SDK's names: "AWS_ENDPOINT_URL_" + the service id upper-cased, spaces as "_"
      // ("SSO Admin", "identitystore").
      AWS_ENDPOINT_URL_SSO_ADMIN: endpoint,
      AWS_ENDPOINT_URL_IDENTITYSTORE: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      // Keep child processes from probing instance metadata for credentials.
      AWS_EC2_METADATA_DISABLED: "true",
    },
    rootCredentials: toCredentials(rootByAccount.get(store.defaultAccountId)!),
    addAccount(accountId) {
      if (rootByAccount.has(accountId)) return;
      store.addAccount(accountId);
      rootByAccount.set(accountId, store.rootCredential(accountId));
      scheduler.ensureDefaultGroup(accountId);
    },
    rootCredentialsFor(accountId) {
      const c = rootByAccount.get(accountId);
      if (!c) throw new Error(`no account ${accountId} in this sandbox`);
      return toCredentials(c);
    },
    credentialsEnv(c) {
      return {
        AWS_ACCESS_KEY_ID: c.accessKeyId,
        AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
        ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
      };
    },
    clock,
    knobs,
    callLog,
    calls: (action, service) =>
      callLog.filter((c) => c.action === action && (service === undefined || c.service === service)),
    addTrustedIssuer: (issuer) => issuers.add(issuer),
    state: {
      iam: store,
      user: (name, account = store.defaultAccountId) => store.accounts.get(account)?.users.get(name),
      role: (name, account = store.defaultAccountId) => store.accounts.get(account)?.roles.get(name),
      userPolicies: (name, account = store.defaultAccountId) =>
        decodeAll(store.accounts.get(account)?.users.get(name)?.inlinePolicies),
      rolePolicies: (name, account = store.defaultAccountId) =>
        decodeAll(store.accounts.get(account)?.roles.get(name)?.inlinePolicies),
      createAccessKey: (name, account = store.defaultAccountId) => toCredentials(store.createAccessKey(account, name)),
      documents: ssmState.documents,
      executions: ssmState.executions,
      async waitForExecution(id) {
        const e = ssmState.executions.get(id);
        if (!e) throw new Error(`no automation execution ${id}`);
        await e.done;
        return e;
      },
      topics: snsState.topics,
      published: snsState.published,
      schedules: schedulerState.schedules,
      scheduleGroups: schedulerState.groups,
      scheduleInvocations: schedulerState.invocations,
      identityCenter,
      async settleSchedules() {
        scheduler.fireDue();
        await scheduler.settle();
      },
    },
    async close() {
      if (ticker) clearInterval(ticker);
      await scheduler.settle();
      await Promise.allSettled([...ssmState.executions.values()].map((e) => e.done));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sandbox;
}
