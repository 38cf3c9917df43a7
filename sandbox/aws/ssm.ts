/**
 * SSM over AWS JSON 1.1 (`X-Amz-Target: AmazonSSM.<Action>`): Automation
 * documents and executions. https://docs.aws.amazon.com/systems-manager/latest/APIReference/
 */
import { createHash, randomUUID } from "node:crypto";
import { stringify as toYaml } from "yaml";
import {
  type AutomationDocument,
  parseDocumentContent,
  resolveParameters,
  validateAutomationDocument,
} from "./automation-document.js";
import {
  type AutomationExecutionRecord,
  cancelPendingApproval,
  type EngineDeps,
  expireOverdueApprovals,
  signalApproval,
  startEngine,
} from "./automation-engine.js";
import { authorizeCall, type CallContext, requirePrincipal, type SandboxCore } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type { IssuedCredential } from "./iam-store.js";
import { type ChildLaunch, parseTargetLocations, startCrossAccountExecution } from "./multi-account.js";
import { epochSeconds } from "./wire.js";

export type JsonHandler = (body: Record<string, unknown>, ctx: CallContext, core: SandboxCore) => Promise<unknown>;

export interface DocumentVersion {
  version: string;
  content: string;
  format: "YAML" | "JSON";
  parsed: AutomationDocument;
  createdDate: Date;
  hash: string;
}

export interface SsmDocument {
  accountId: string;
  name: string;
  documentType: string;
  versions: DocumentVersion[];
  defaultVersion: string;
  tags: { Key: string; Value: string }[];
}

export interface SsmState {
  /** Keyed by `${accountId}/${name}`. */
  documents: Map<string, SsmDocument>;
  executions: Map<string, AutomationExecutionRecord>;
  /** Lower-cased ClientToken -> execution id. */
  clientTokens: Map<string, string>;
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError("ValidationException", message, 400);
}

function str(body: Record<string, unknown>, name: string, required: true): string;
function str(body: Record<string, unknown>, name: string, required?: false): string | undefined;
function str(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    return undefined;
  }
  if (typeof v !== "string") throw new AwsServiceError("SerializationException", `${name} must be a string`, 400);
  return v;
}

const DOCUMENT_NAME = /^[a-zA-Z0-9_\-.]{3,128}$/;
const UUID = /^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$/;
const TERMINAL = new Set([
  "Success",
  "Failed",
  "Cancelled",
  "TimedOut",
  "CompletedWithSuccess",
  "CompletedWithFailure",
  "Rejected",
]);

function parseFormat(value: string | undefined, fallback: "YAML" | "JSON"): "YAML" | "JSON" {
  if (value === undefined) return fallback;
  if (value !== "YAML" && value !== "JSON")
    throw validation(`DocumentFormat '${value}' is not supported; use YAML or JSON`);
  return value;
}

function buildVersion(content: string, format: "YAML" | "JSON", version: string, now: Date): DocumentVersion {
  if (content.length > 64 * 1024)
    throw new AwsServiceError("MaxDocumentSizeExceeded", "The size limit of a document is 64 KB.", 400);
  const parsed = validateAutomationDocument(parseDocumentContent(content, format));
  return {
    version,
    content,
    format,
    parsed,
    createdDate: now,
    hash: createHash("sha256").update(content).digest("hex"),
  };
}

function description(doc: SsmDocument, v: DocumentVersion) {
  const latest = doc.versions[doc.versions.length - 1]!;
  return {
    Name: doc.name,
    DocumentVersion: v.version,
    Status: "Active",
    DocumentType: doc.documentType,
    DocumentFormat: v.format,
    SchemaVersion: v.parsed.schemaVersion,
    Hash: v.hash,
    HashType: "Sha256",
    CreatedDate: epochSeconds(v.createdDate),
    Owner: doc.accountId,
    PlatformTypes: ["Windows", "Linux", "MacOS"],
    Description: v.parsed.description,
    Parameters: [...v.parsed.parameters].map(([name, spec]) => ({
      Name: name,
      Type: spec.type,
      Description: spec.description,
      DefaultValue:
        spec.default === undefined
          ? undefined
          : Array.isArray(spec.default)
            ? spec.default.join(",")
            : String(spec.default),
    })),
    LatestVersion: latest.version,
    DefaultVersion: doc.defaultVersion,
    Tags: doc.tags,
  };
}

function docKey(accountId: string, name: string): string {
  return `${accountId}/${name}`;
}

function findDocument(state: SsmState, accountId: string, name: string): SsmDocument {
  // Document names may also be given as ARNs.
  const bare = name.startsWith("arn:") ? name.slice(name.lastIndexOf("/") + 1) : name;
  const doc = state.documents.get(docKey(accountId, bare));
  if (!doc) throw new AwsServiceError("InvalidDocument", `Document with name ${bare} does not exist.`, 400);
  return doc;
}

function findVersion(doc: SsmDocument, requested: string | undefined): DocumentVersion {
  const wanted =
    requested === undefined || requested === "$DEFAULT"
      ? doc.defaultVersion
      : requested === "$LATEST"
        ? doc.versions[doc.versions.length - 1]!.version
        : requested;
  const v = doc.versions.find((x) => x.version === wanted);
  if (!v)
    throw new AwsServiceError(
      "InvalidDocumentVersion",
      `Document version ${requested} does not exist for ${doc.name}.`,
      400,
    );
  return v;
}

function executionArn(core: SandboxCore, accountId: string, id: string): string {
  return `arn:aws:ssm:${core.region}:${accountId}:automation-execution/${id}`;
}

function stringListMap(value: unknown, name: string): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new AwsServiceError("SerializationException", `${name} must be a map`, 400);
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw new AwsServiceError("SerializationException", `${name}.${k} must be a list of strings`, 400);
    }
    out[k] = v;
  }
  return out;
}

function executionJson(e: AutomationExecutionRecord) {
  return {
    AutomationExecutionId: e.id,
    DocumentName: e.documentName,
    DocumentVersion: e.documentVersion,
    ExecutionStartTime: epochSeconds(e.startTime),
    ExecutionEndTime: e.endTime ? epochSeconds(e.endTime) : undefined,
    AutomationExecutionStatus: e.status,
    StepExecutions: e.steps.map((s) => ({
      ...s,
      ExecutionStartTime: s.ExecutionStartTime ? epochSeconds(s.ExecutionStartTime) : undefined,
      ExecutionEndTime: s.ExecutionEndTime ? epochSeconds(s.ExecutionEndTime) : undefined,
    })),
    StepExecutionsTruncated: false,
    Parameters: e.parameters,
    Outputs: e.outputs,
    FailureMessage: e.failureMessage,
    Mode: "Auto",
    ExecutedBy: e.executedBy,
    CurrentStepName: e.currentStepName,
    CurrentAction: e.currentAction,
    AutomationType: e.automationType ?? "Local",
    ...crossAccountFields(e),
  };
}

/** What GetAutomationExecution / DescribeAutomationExecutions show of a multi-account relation. */
function crossAccountFields(e: AutomationExecutionRecord) {
  return {
    ...(e.targetLocations ? { TargetLocations: e.targetLocations } : {}),
    ...(e.parentAutomationExecutionId ? { ParentAutomationExecutionId: e.parentAutomationExecutionId } : {}),
  };
}

function metadataJson(e: AutomationExecutionRecord) {
  return {
    AutomationExecutionId: e.id,
    DocumentName: e.documentName,
    DocumentVersion: e.documentVersion,
    AutomationExecutionStatus: e.status,
    ExecutionStartTime: epochSeconds(e.startTime),
    ExecutionEndTime: e.endTime ? epochSeconds(e.endTime) : undefined,
    ExecutedBy: e.executedBy,
    Outputs: e.outputs,
    Mode: "Auto",
    CurrentStepName: e.currentStepName,
    CurrentAction: e.currentAction,
    FailureMessage: e.failureMessage,
    AutomationType: e.automationType ?? "Local",
    ...crossAccountFields(e),
  };
}

/**
 * A StartTimeBefore/After filter value. The API reference gives no format; the
 * sandbox accepts only the unambiguous one, UTC in whole seconds
 * (`2026-11-30T08:00:00Z`), so a caller that sends milliseconds or an offset is
 * caught here rather than by AWS.
 */
function filterTime(key: string, value: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) {
    throw validation(`Filter ${key} value '${value}' must be a UTC time in whole seconds, e.g. 2026-11-30T08:00:00Z`);
  }
  return new Date(value);
}

/** Times out overdue aws:approve steps and waits until their executions have finished. */
async function settleOverdue(state: SsmState, now: Date): Promise<void> {
  await Promise.all(expireOverdueApprovals(state.executions.values(), now).map((e) => e.done));
}

export interface SsmDeps {
  state: SsmState;
  engine: Omit<EngineDeps, "core">;
  /** The credential that signed the current request (needed when a document has no assumeRole). */
  credentialOf(ctx: CallContext): IssuedCredential | undefined;
}

export function ssmHandlers(deps: SsmDeps): Record<string, JsonHandler> {
  const { state } = deps;
  function engineDeps(core: SandboxCore): EngineDeps {
    return {
      core,
      ...deps.engine,
      // aws:executeAutomation: the runbook's role (or caller) starts the secondary automation.
      startAutomation: async (input) => {
        const ctx: CallContext = {
          service: "ssm",
          action: "StartAutomationExecution",
          principal: input.credential.principal,
          region: core.region,
          requestId: randomUUID(),
          now: core.clock.now(),
        };
        const { AutomationExecutionId } = await startAutomationExecution(
          input.body,
          ctx,
          core,
          input.credential,
          input.parentAutomationExecutionId,
        );
        return state.executions.get(AutomationExecutionId) as AutomationExecutionRecord;
      },
    };
  }

  /**
   * A child of a multi-account execution: the central account's document version, run in
   * the target account with the execution role's session as its caller (so a runbook
   * without assumeRole acts as that role there).
   */
  async function launchExecution(core: SandboxCore, child: ChildLaunch): Promise<AutomationExecutionRecord> {
    const parent = child.parent;
    const ctx: CallContext = {
      service: "ssm",
      action: "StartAutomationExecution",
      principal: child.credential.principal,
      region: core.region,
      requestId: randomUUID(),
      now: core.clock.now(),
    };
    const assumeRole = parent.document.assumeRole;
    const roleRef = assumeRole ? /^\{\{\s*([^{}\s]+)\s*\}\}$/.exec(assumeRole)?.[1] : undefined;
    const assumeRoleArn = roleRef ? parent.resolved.get(roleRef) : assumeRole;
    if (typeof assumeRoleArn === "string" && assumeRoleArn !== "") {
      await authorizeCall(ctx, {
        action: "iam:PassRole",
        resource: assumeRoleArn,
        resourceAccountId: /^arn:aws:iam::(\d{12}):/.exec(assumeRoleArn)?.[1] ?? child.accountId,
        extraContext: { "iam:PassedToService": "ssm.amazonaws.com" },
      });
    }
    const exec: AutomationExecutionRecord = {
      ...parent,
      id: randomUUID(),
      accountId: child.accountId,
      status: "Pending",
      startTime: ctx.now,
      endTime: undefined,
      resolved: new Map(parent.resolved),
      outputs: {},
      steps: [],
      failureMessage: undefined,
      executedBy: child.credential.principal.arn,
      callerCredential: child.credential,
      callerSource: child.credentialSource,
      clientToken: undefined,
      stopRequested: false,
      currentStepName: undefined,
      currentAction: undefined,
      done: Promise.resolve(),
      approval: undefined,
      automationType: "Local",
      targetLocations: undefined,
      parentAutomationExecutionId: parent.id,
      childExecutionIds: undefined,
    };
    state.executions.set(exec.id, exec);
    startEngine(exec, engineDeps(core));
    return exec;
  }

  /**
   * StartAutomationExecution for `ctx`'s signer, signed with `callerCredential`: the API
   * handler's and aws:executeAutomation's common path. With TargetLocations the execution
   * is a multi-account parent (sandbox/aws/multi-account.ts).
   */
  async function startAutomationExecution(
    body: Record<string, unknown>,
    ctx: CallContext,
    core: SandboxCore,
    callerCredential: IssuedCredential | undefined = deps.credentialOf(ctx),
    parentAutomationExecutionId?: string,
  ): Promise<{ AutomationExecutionId: string }> {
    const principal = requirePrincipal(ctx);
    const account = principal.accountId;
    const name = str(body, "DocumentName", true);
    const requestedVersion = str(body, "DocumentVersion");
    // Automation authorizes against the automation-definition ARN with its version.
    await authorizeCall(ctx, {
      action: "ssm:StartAutomationExecution",
      resource: `arn:aws:ssm:${core.region}:${account}:automation-definition/${name}:${requestedVersion ?? "$DEFAULT"}`,
      resourceAccountId: account,
    });
    const mode = str(body, "Mode");
    if (mode !== undefined && mode !== "Auto")
      throw validation(`Mode ${mode} is not supported by the sandbox (Auto only)`);
    for (const unsupported of ["Targets", "TargetMaps", "TargetParameterName", "TargetLocationsURL", "Runbooks"]) {
      if (body[unsupported] !== undefined) throw validation(`${unsupported} is not supported by the sandbox`);
    }
    const targetLocations =
      body.TargetLocations === undefined ? undefined : parseTargetLocations(body.TargetLocations, core.region);
    const given = stringListMap(body.Parameters, "Parameters");
    const clientToken = str(body, "ClientToken");
    // "ClientToken … The token must be unique, is case insensitive, enforces the UUID format, and can't be reused."
    if (clientToken !== undefined && !UUID.test(clientToken)) {
      throw validation(
        `1 validation error detected: Value '${clientToken}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}`,
      );
    }
    let doc: SsmDocument;
    try {
      doc = findDocument(state, account, name);
    } catch {
      throw new AwsServiceError(
        "AutomationDefinitionNotFoundException",
        `Automation definition ${name} not found.`,
        400,
      );
    }
    let version: ReturnType<typeof findVersion>;
    try {
      version = findVersion(doc, requestedVersion);
    } catch {
      throw new AwsServiceError(
        "AutomationDefinitionVersionNotFoundException",
        `Automation definition ${name} version ${requestedVersion} not found.`,
        400,
      );
    }
    const fingerprint = JSON.stringify([
      name,
      version.version,
      targetLocations ?? null,
      Object.keys(given)
        .sort()
        .map((k) => [k, given[k]]),
    ]);
    if (clientToken !== undefined) {
      const existingId = state.clientTokens.get(clientToken.toLowerCase());
      const existing = existingId ? state.executions.get(existingId) : undefined;
      if (existing) {
        if (existing.requestFingerprint !== fingerprint) {
          throw new AwsServiceError(
            "IdempotentParameterMismatch",
            "Error returned when an idempotent operation is retried and the parameters don't match the original call to the API with the same idempotency token.",
            400,
          );
        }
        return { AutomationExecutionId: existing.id };
      }
    }
    const resolved = resolveParameters(version.parsed, given);
    const assumeRole = version.parsed.assumeRole;
    const roleRef = assumeRole ? /^\{\{\s*([^{}\s]+)\s*\}\}$/.exec(assumeRole)?.[1] : undefined;
    const assumeRoleArn = roleRef ? resolved.get(roleRef) : assumeRole;
    // A multi-account parent runs nothing itself: each child passes the role in its own account.
    if (typeof assumeRoleArn === "string" && assumeRoleArn !== "" && targetLocations === undefined) {
      // Passing a role to Automation needs iam:PassRole on it ("Configure a service role for Automation").
      await authorizeCall(ctx, {
        action: "iam:PassRole",
        resource: assumeRoleArn,
        resourceAccountId: /^arn:aws:iam::(\d{12}):/.exec(assumeRoleArn)?.[1] ?? account,
        extraContext: { "iam:PassedToService": "ssm.amazonaws.com" },
      });
    }
    if (!callerCredential) throw new AwsServiceError("InternalServerError", "caller credential not found", 500);
    const parameters: Record<string, string[]> = {};
    for (const [k, v] of resolved) {
      parameters[k] = Array.isArray(v)
        ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)))
        : [typeof v === "object" ? JSON.stringify(v) : String(v)];
    }
    const id = randomUUID();
    const exec: AutomationExecutionRecord = {
      id,
      documentName: doc.name,
      documentVersion: version.version,
      document: version.parsed,
      accountId: account,
      status: "Pending",
      startTime: ctx.now,
      endTime: undefined,
      parameters,
      resolved,
      outputs: {},
      steps: [],
      failureMessage: undefined,
      executedBy: principal.arn,
      callerCredential,
      clientToken,
      requestFingerprint: fingerprint,
      stopRequested: false,
      currentStepName: undefined,
      currentAction: undefined,
      done: Promise.resolve(),
      ...(parentAutomationExecutionId !== undefined ? { parentAutomationExecutionId } : {}),
    };
    state.executions.set(id, exec);
    if (clientToken !== undefined) state.clientTokens.set(clientToken.toLowerCase(), id);
    if (targetLocations !== undefined) {
      exec.automationType = "CrossAccount";
      exec.targetLocations = targetLocations;
      startCrossAccountExecution(exec, {
        core,
        executions: state.executions,
        startChild: (child) => launchExecution(core, child),
      });
    } else {
      startEngine(exec, engineDeps(core));
    }
    return { AutomationExecutionId: id };
  }

  return {
    async CreateDocument(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      const content = str(body, "Content", true);
      if (!DOCUMENT_NAME.test(name)) throw validation(`Document name '${name}' must match [a-zA-Z0-9_\\-.]{3,128}`);
      await authorizeCall(ctx, {
        action: "ssm:CreateDocument",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      const documentType = str(body, "DocumentType") ?? "Command";
      if (documentType !== "Automation") {
        throw new AwsServiceError(
          "InvalidDocumentType",
          `The sandbox supports DocumentType Automation only, got ${documentType}`,
          400,
        );
      }
      if (state.documents.has(docKey(account, name))) {
        throw new AwsServiceError("DocumentAlreadyExists", `Document with same name ${name} already exists`, 400);
      }
      const format = parseFormat(str(body, "DocumentFormat"), "JSON");
      const version = buildVersion(content, format, "1", ctx.now);
      const tags = Array.isArray(body.Tags) ? (body.Tags as { Key: string; Value: string }[]) : [];
      const doc: SsmDocument = {
        accountId: account,
        name,
        documentType,
        versions: [version],
        defaultVersion: "1",
        tags,
      };
      state.documents.set(docKey(account, name), doc);
      return { DocumentDescription: description(doc, version) };
    },

    async UpdateDocument(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      const content = str(body, "Content", true);
      await authorizeCall(ctx, {
        action: "ssm:UpdateDocument",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      const doc = findDocument(state, account, name);
      const latest = doc.versions[doc.versions.length - 1]!;
      const base = str(body, "DocumentVersion");
      // "DocumentVersion: The version of the document that you want to update … $LATEST".
      if (base !== undefined && base !== "$LATEST" && base !== latest.version) {
        throw new AwsServiceError(
          "InvalidDocumentVersion",
          "The document version is not valid or does not exist.",
          400,
        );
      }
      const format = parseFormat(str(body, "DocumentFormat"), latest.format);
      const version = buildVersion(content, format, String(doc.versions.length + 1), ctx.now);
      if (doc.versions.some((v) => v.hash === version.hash)) {
        throw new AwsServiceError(
          "DuplicateDocumentContent",
          "The content of the association document matches another document. Change the content of the document and try again.",
          400,
        );
      }
      doc.versions.push(version);
      return { DocumentDescription: description(doc, version) };
    },

    async UpdateDocumentDefaultVersion(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      await authorizeCall(ctx, {
        action: "ssm:UpdateDocumentDefaultVersion",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      const doc = findDocument(state, account, name);
      const v = findVersion(doc, str(body, "DocumentVersion", true));
      doc.defaultVersion = v.version;
      return { Description: { Name: doc.name, DefaultVersion: v.version } };
    },

    async GetDocument(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      await authorizeCall(ctx, {
        action: "ssm:GetDocument",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      const doc = findDocument(state, account, name);
      const v = findVersion(doc, str(body, "DocumentVersion"));
      // "DocumentFormat: Returns the document in the specified format. … JSON is the default
      // format." (GetDocument, AWS Systems Manager API Reference)
      const format = parseFormat(str(body, "DocumentFormat"), "JSON");
      const content =
        format === v.format
          ? v.content
          : format === "JSON"
            ? JSON.stringify(parseDocumentContent(v.content, v.format), null, 2)
            : toYaml(parseDocumentContent(v.content, v.format));
      return {
        Name: doc.name,
        DocumentVersion: v.version,
        Status: "Active",
        Content: content,
        DocumentType: doc.documentType,
        DocumentFormat: format,
        CreatedDate: epochSeconds(v.createdDate),
      };
    },

    async DescribeDocument(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      await authorizeCall(ctx, {
        action: "ssm:DescribeDocument",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      const doc = findDocument(state, account, name);
      return { Document: description(doc, findVersion(doc, str(body, "DocumentVersion"))) };
    },

    async DeleteDocument(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = str(body, "Name", true);
      await authorizeCall(ctx, {
        action: "ssm:DeleteDocument",
        resource: `arn:aws:ssm:${core.region}:${account}:document/${name}`,
        resourceAccountId: account,
      });
      findDocument(state, account, name);
      state.documents.delete(docKey(account, name));
      return {};
    },

    async StartAutomationExecution(body, ctx, core) {
      return startAutomationExecution(body, ctx, core);
    },

    async GetAutomationExecution(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const id = str(body, "AutomationExecutionId", true);
      await authorizeCall(ctx, {
        action: "ssm:GetAutomationExecution",
        resource: executionArn(core, account, id),
        resourceAccountId: account,
      });
      // aws:approve timeouts are judged against the sandbox clock whenever anyone looks;
      // the answer shows the timed-out executions finished.
      await settleOverdue(state, ctx.now);
      const e = state.executions.get(id);
      if (!e || e.accountId !== account) {
        throw new AwsServiceError(
          "AutomationExecutionNotFoundException",
          `Automation Execution with id ${id} does not exist`,
          400,
        );
      }
      return { AutomationExecution: executionJson(e) };
    },

    async DescribeAutomationExecutions(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      await authorizeCall(ctx, {
        action: "ssm:DescribeAutomationExecutions",
        resource: `arn:aws:ssm:${core.region}:${account}:automation-execution/*`,
        resourceAccountId: account,
      });
      await settleOverdue(state, ctx.now);
      const maxResults = body.MaxResults === undefined ? 50 : Number(body.MaxResults);
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
        throw validation(
          `1 validation error detected: Value '${String(body.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50`,
        );
      }
      let rows = [...state.executions.values()].filter((e) => e.accountId === account);
      const filters = Array.isArray(body.Filters) ? (body.Filters as { Key?: unknown; Values?: unknown }[]) : [];
      for (const f of filters) {
        const values = Array.isArray(f.Values) ? f.Values.map(String) : [];
        if (values.length === 0) throw validation("Filter Values must not be empty");
        switch (f.Key) {
          case "DocumentNamePrefix":
            rows = rows.filter((e) => values.some((v) => e.documentName.startsWith(v)));
            break;
          case "ExecutionStatus":
            rows = rows.filter((e) => values.includes(e.status));
            break;
          case "ExecutionId":
            rows = rows.filter((e) => values.includes(e.id));
            break;
          case "ParentExecutionId":
            rows = rows.filter(
              (e) => e.parentAutomationExecutionId !== undefined && values.includes(e.parentAutomationExecutionId),
            );
            break;
          case "AutomationType":
            rows = rows.filter((e) => values.includes(e.automationType ?? "Local"));
            break;
          case "StartTimeBefore":
            rows = rows.filter((e) => values.some((v) => e.startTime < filterTime(f.Key as string, v)));
            break;
          case "StartTimeAfter":
            rows = rows.filter((e) => values.some((v) => e.startTime > filterTime(f.Key as string, v)));
            break;
          default:
            throw validation(`Filter key ${String(f.Key)} is not supported by the sandbox`);
        }
      }
      // Newest first, like the console and API.
      rows.sort((a, b) => b.startTime.getTime() - a.startTime.getTime() || (a.id < b.id ? -1 : 1));
      const token = str(body, "NextToken");
      let start = 0;
      if (token !== undefined) {
        start = Number(Buffer.from(token, "base64url").toString("utf8"));
        if (!Number.isInteger(start) || start < 0) throw validation("The NextToken is not valid");
      }
      const page = rows.slice(start, start + maxResults);
      const next =
        start + maxResults < rows.length ? Buffer.from(String(start + maxResults)).toString("base64url") : undefined;
      return { AutomationExecutionMetadataList: page.map(metadataJson), NextToken: next };
    },

    async StopAutomationExecution(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const id = str(body, "AutomationExecutionId", true);
      await authorizeCall(ctx, {
        action: "ssm:StopAutomationExecution",
        resource: executionArn(core, account, id),
        resourceAccountId: account,
      });
      const e = state.executions.get(id);
      if (!e || e.accountId !== account) {
        throw new AwsServiceError(
          "AutomationExecutionNotFoundException",
          `Automation Execution with id ${id} does not exist`,
          400,
        );
      }
      if (TERMINAL.has(e.status)) {
        throw new AwsServiceError(
          "InvalidAutomationStatusUpdateException",
          `The automation execution ${id} is already ${e.status}.`,
          400,
        );
      }
      e.stopRequested = true;
      e.status = "Cancelling";
      // An execution parked in an aws:approve step has nothing in flight: it ends now.
      if (cancelPendingApproval(e, ctx.now)) await e.done;
      return {};
    },

    async SendAutomationSignal(body, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const id = str(body, "AutomationExecutionId", true);
      await authorizeCall(ctx, {
        action: "ssm:SendAutomationSignal",
        resource: executionArn(core, account, id),
        resourceAccountId: account,
      });
      const e = state.executions.get(id);
      if (!e || e.accountId !== account) {
        throw new AwsServiceError(
          "AutomationExecutionNotFoundException",
          `Automation Execution with id ${id} does not exist`,
          400,
        );
      }
      const signalType = str(body, "SignalType", true);
      // SignalType: "Approve | Reject | StartStep | StopStep | Resume | Revoke" (SendAutomationSignal API reference).
      if (!["Approve", "Reject", "StartStep", "StopStep", "Resume", "Revoke"].includes(signalType)) {
        throw validation(
          `1 validation error detected: Value '${signalType}' at 'signalType' failed to satisfy constraint: Member must satisfy enum value set: [Approve, Reject, StartStep, StopStep, Resume, Revoke]`,
        );
      }
      await settleOverdue(state, ctx.now);
      signalApproval(e, {
        principal: requirePrincipal(ctx),
        signalType,
        payload: stringListMap(body.Payload, "Payload"),
        now: ctx.now,
      });
      // AWS answers at once and the execution moves on; the sandbox answers once the
      // engine has, so a GetAutomationExecution right after sees where the signal led.
      await e.done;
      return {};
    },
  };
}
