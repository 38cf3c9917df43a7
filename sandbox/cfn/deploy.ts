/**
 * Deploys infra/template.yaml into the AWS sandbox the way CloudFormation
 * would, through the real AWS SDK clients: plan first (pure: parameters,
 * Rules, Conditions, intrinsic functions, physical ids), then create each
 * resource in dependency order. Only the resource types the template uses are
 * supported; any other type or property is an error, so the template cannot
 * drift away from what the sandbox proves.
 */
import { readFileSync } from "node:fs";
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  type Tag as IamTag,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateScheduleGroupCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateDocumentCommand, type DocumentFormat, type DocumentType, SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import {
  type CfnTemplate,
  checkRules,
  creationOrder,
  evaluateConditions,
  generatedName,
  isPlainObject,
  type ParameterValue,
  parseTemplate,
  type ResolveContext,
  type ResourceIdentity,
  resolveParameters,
  resolveValue,
  TemplateError,
} from "./template.js";

export interface PlannedResource {
  logicalId: string;
  type: string;
  /** Properties with every intrinsic function resolved. */
  properties: Record<string, unknown>;
  /** What Ref / Fn::GetAtt return (ARNs are predictable for every supported type). */
  identity: ResourceIdentity;
}

export interface DeploymentPlan {
  parameters: Map<string, ParameterValue>;
  conditions: Map<string, boolean>;
  /** In creation order; resources whose Condition is false are left out. */
  resources: PlannedResource[];
  outputs: Record<string, string>;
}

export interface PlanOptions {
  /** Parsed template, or its YAML text. */
  template: CfnTemplate | string;
  parameters: Record<string, string>;
  accountId: string;
  region: string;
  partition?: string;
  stackName?: string;
  /**
   * Identities of resources an earlier deployment of the stack created: a
   * resource CloudFormation keeps (an update, not a replacement) keeps its
   * physical id, generated names included.
   */
  existing?: Record<string, ResourceIdentity>;
}

/** Allowed properties per supported resource type (CloudFormation resource reference). */
const SUPPORTED: Record<string, { required: string[]; optional: string[] }> = {
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-oidcprovider.html
  "AWS::IAM::OIDCProvider": { required: ["Url"], optional: ["ClientIdList", "ThumbprintList", "Tags"] },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
  "AWS::IAM::Role": {
    required: ["AssumeRolePolicyDocument"],
    optional: [
      "RoleName",
      "Path",
      "Description",
      "MaxSessionDuration",
      "Policies",
      "ManagedPolicyArns",
      "PermissionsBoundary",
      "Tags",
    ],
  },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-user.html
  "AWS::IAM::User": { required: [], optional: ["UserName", "Path", "Tags"] },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-document.html
  "AWS::SSM::Document": {
    required: ["Content"],
    optional: ["Name", "DocumentType", "DocumentFormat", "TargetType", "Tags", "UpdateMethod"],
  },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html
  "AWS::SNS::Topic": { required: [], optional: ["TopicName", "DisplayName", "KmsMasterKeyId", "Tags"] },
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-scheduler-schedulegroup.html
  "AWS::Scheduler::ScheduleGroup": { required: [], optional: ["Name", "Tags"] },
};

function identityFor(
  type: string,
  logicalId: string,
  props: Record<string, unknown>,
  ctx: Pick<ResolveContext, "accountId" | "region" | "partition" | "stackName">,
): ResourceIdentity {
  const path = `Resources.${logicalId}.Properties`;
  const str = (key: string): string | undefined => {
    const value = props[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw new TemplateError(`${path}.${key}`, "must be a string");
    return value;
  };
  const { partition: p, accountId: account, region } = ctx;
  switch (type) {
    case "AWS::IAM::OIDCProvider": {
      const url = str("Url") as string;
      if (!/^https:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) throw new TemplateError(`${path}.Url`, "must be an https URL");
      const arn = `arn:${p}:iam::${account}:oidc-provider/${url.slice("https://".length)}`;
      return { ref: arn, attributes: { Arn: arn } };
    }
    case "AWS::IAM::Role": {
      const name = str("RoleName") ?? generatedName(ctx.stackName, logicalId, 64);
      const rolePath = str("Path") ?? "/";
      const arn = `arn:${p}:iam::${account}:role${rolePath}${name}`;
      return { ref: name, attributes: { Arn: arn } };
    }
    case "AWS::IAM::User": {
      // Ref returns the user name; Fn::GetAtt Arn its ARN.
      const name = str("UserName") ?? generatedName(ctx.stackName, logicalId, 64);
      const arn = `arn:${p}:iam::${account}:user${str("Path") ?? "/"}${name}`;
      return { ref: name, attributes: { Arn: arn } };
    }
    case "AWS::SSM::Document": {
      const name = str("Name") ?? generatedName(ctx.stackName, logicalId, 128);
      return { ref: name, attributes: {} };
    }
    case "AWS::SNS::Topic": {
      const name = str("TopicName") ?? generatedName(ctx.stackName, logicalId, 256);
      const arn = `arn:${p}:sns:${region}:${account}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case "AWS::Scheduler::ScheduleGroup": {
      // Ref returns the group's name; Fn::GetAtt Arn its ARN.
      const name = str("Name") ?? generatedName(ctx.stackName, logicalId, 64);
      const arn = `arn:${p}:scheduler:${region}:${account}:schedule-group/${name}`;
      return { ref: name, attributes: { Arn: arn } };
    }
    default:
      throw new TemplateError(`Resources.${logicalId}.Type`, `${type} is not supported by the sandbox deployer`);
  }
}

/** The property that names a resource of `type`, when CloudFormation lets the template choose the name. */
export const NAME_PROPERTY: Record<string, string | undefined> = {
  "AWS::IAM::OIDCProvider": undefined,
  "AWS::IAM::Role": "RoleName",
  "AWS::IAM::User": "UserName",
  "AWS::SSM::Document": "Name",
  "AWS::SNS::Topic": "TopicName",
  "AWS::Scheduler::ScheduleGroup": "Name",
};

/** True when the template gives the resource its name (or, for an OIDC provider, its URL): its id is not generated. */
function namesItself(type: string, props: Record<string, unknown>): boolean {
  const property = NAME_PROPERTY[type];
  return type === "AWS::IAM::OIDCProvider" || (property !== undefined && props[property] !== undefined);
}

/** Everything CloudFormation decides before it calls any service. Pure. */
export function planDeployment(options: PlanOptions): DeploymentPlan {
  const template = typeof options.template === "string" ? parseTemplate(options.template) : options.template;
  const parameters = resolveParameters(template, options.parameters);
  const ctx: ResolveContext = {
    parameters,
    accountId: options.accountId,
    region: options.region,
    partition: options.partition ?? "aws",
    stackName: options.stackName ?? "elevate",
    conditions: new Map(),
    resources: new Map(),
    mappings: template.Mappings,
  };
  checkRules(template, ctx);
  const conditions = evaluateConditions(template, ctx);
  ctx.conditions = conditions;

  const resources: PlannedResource[] = [];
  for (const logicalId of creationOrder(template)) {
    const resource = template.Resources[logicalId];
    if (!resource) continue;
    if (resource.Condition !== undefined) {
      const on = conditions.get(resource.Condition);
      if (on === undefined)
        throw new TemplateError(`Resources.${logicalId}.Condition`, `unknown condition ${resource.Condition}`);
      if (!on) continue;
    }
    const spec = SUPPORTED[resource.Type];
    if (!spec)
      throw new TemplateError(
        `Resources.${logicalId}.Type`,
        `${resource.Type} is not supported by the sandbox deployer`,
      );
    const properties = resolveValue(ctx, resource.Properties ?? {}, `Resources.${logicalId}.Properties`);
    if (!isPlainObject(properties)) throw new TemplateError(`Resources.${logicalId}.Properties`, "must be a mapping");
    for (const key of Object.keys(properties)) {
      if (!spec.required.includes(key) && !spec.optional.includes(key)) {
        throw new TemplateError(`Resources.${logicalId}.Properties.${key}`, `unsupported property of ${resource.Type}`);
      }
    }
    for (const key of spec.required) {
      if (properties[key] === undefined)
        throw new TemplateError(`Resources.${logicalId}.Properties`, `${key} is required`);
    }
    // A resource the stack already has keeps its identity (and attributes such as a
    // role's RoleId) unless the template now names it differently (a replacement).
    const kept = options.existing?.[logicalId];
    const fresh =
      kept && !namesItself(resource.Type, properties)
        ? undefined
        : identityFor(resource.Type, logicalId, properties, ctx);
    const identity =
      kept && (fresh === undefined || fresh.ref === kept.ref) ? structuredClone(kept) : (fresh as ResourceIdentity);
    ctx.resources.set(logicalId, identity);
    resources.push({ logicalId, type: resource.Type, properties, identity });
  }

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !conditions.get(output.Condition)) continue;
    const value = resolveValue(ctx, output.Value, `Outputs.${name}.Value`);
    if (typeof value !== "string") throw new TemplateError(`Outputs.${name}.Value`, "must resolve to a string");
    outputs[name] = value;
  }
  return { parameters, conditions, resources, outputs };
}

export interface DeployClients {
  iam: IAMClient;
  ssm: SSMClient;
  sns: SNSClient;
  scheduler: SchedulerClient;
}

export interface DeployOptions {
  templatePath: string;
  /** The template's text, when it is not (or not yet) the file at templatePath (e.g. a changed runbook). */
  templateText?: string;
  parameters: Record<string, string>;
  accountId: string;
  region: string;
  partition?: string;
  stackName?: string;
  /** Ready-made clients (e.g. pointed at the sandbox); otherwise built from `credentials`/`endpoints`. */
  clients?: DeployClients;
  /** Root credentials of the target account (the sandbox's `rootCredentials`). */
  credentials?: AwsCredentialIdentity;
  /**
   * Per-service endpoints. When absent the SDK reads `AWS_ENDPOINT_URL_IAM` /
   * `_SSM` / `_SNS` (or `AWS_ENDPOINT_URL`) from the environment itself.
   */
  endpoints?: { iam?: string; ssm?: string; sns?: string; scheduler?: string };
  /**
   * Managed policy ARN -> policy document to put as an inline policy instead of
   * attaching the managed policy, for targets without AWS managed policies.
   * ARNs not listed here are attached with AttachRolePolicy.
   */
  inlineManagedPolicies?: Record<string, unknown>;
}

export interface DeployResult {
  plan: DeploymentPlan;
  outputs: Record<string, string>;
  /** Physical ids by logical id. */
  physicalIds: Record<string, string>;
}

export function buildClients(options: DeployOptions): DeployClients {
  const base = {
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const at = (endpoint: string | undefined) => (endpoint ? { endpoint } : {});
  return {
    iam: new IAMClient({ ...base, ...at(options.endpoints?.iam) }),
    ssm: new SSMClient({ ...base, ...at(options.endpoints?.ssm) }),
    sns: new SNSClient({ ...base, ...at(options.endpoints?.sns) }),
    // The sandbox serves every service on one endpoint: callers that name only
    // IAM/SSM/SNS get the same one for Scheduler rather than a real AWS endpoint.
    scheduler: new SchedulerClient({ ...base, ...at(options.endpoints?.scheduler ?? options.endpoints?.ssm) }),
  };
}

export function tagsOf(props: Record<string, unknown>): IamTag[] | undefined {
  const tags = props.Tags;
  if (tags === undefined) return undefined;
  if (
    !Array.isArray(tags) ||
    !tags.every((t) => isPlainObject(t) && typeof t.Key === "string" && typeof t.Value === "string")
  ) {
    throw new Error("Tags must be a list of {Key, Value} strings");
  }
  return tags as IamTag[];
}

export function policyJson(document: unknown): string {
  return typeof document === "string" ? document : JSON.stringify(document);
}

function expectSame(what: string, predicted: string, actual: string | undefined): void {
  if (actual !== predicted) {
    throw new Error(`${what}: the service returned ${String(actual)}, the plan predicted ${predicted}`);
  }
}

export async function createResource(
  resource: PlannedResource,
  clients: DeployClients,
  options: DeployOptions,
): Promise<void> {
  const props = resource.properties;
  const id = resource.identity;
  switch (resource.type) {
    case "AWS::IAM::OIDCProvider": {
      const out = await clients.iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: props.Url as string,
          ClientIDList: props.ClientIdList as string[] | undefined,
          ThumbprintList: props.ThumbprintList as string[] | undefined,
          Tags: tagsOf(props),
        }),
      );
      expectSame(`${resource.logicalId} ARN`, id.ref, out.OpenIDConnectProviderArn);
      return;
    }
    case "AWS::IAM::Role": {
      const out = await clients.iam.send(
        new CreateRoleCommand({
          RoleName: id.ref,
          Path: (props.Path as string | undefined) ?? "/",
          AssumeRolePolicyDocument: policyJson(props.AssumeRolePolicyDocument),
          Description: props.Description as string | undefined,
          MaxSessionDuration: props.MaxSessionDuration === undefined ? undefined : Number(props.MaxSessionDuration),
          PermissionsBoundary: props.PermissionsBoundary as string | undefined,
          Tags: tagsOf(props),
        }),
      );
      expectSame(`${resource.logicalId} ARN`, id.attributes.Arn as string, out.Role?.Arn);
      if (out.Role?.RoleId) id.attributes.RoleId = out.Role.RoleId;
      for (const policy of (props.Policies as unknown[] | undefined) ?? []) {
        if (!isPlainObject(policy) || typeof policy.PolicyName !== "string" || policy.PolicyDocument === undefined) {
          throw new Error(`${resource.logicalId}: each of Policies needs PolicyName and PolicyDocument`);
        }
        await clients.iam.send(
          new PutRolePolicyCommand({
            RoleName: id.ref,
            PolicyName: policy.PolicyName,
            PolicyDocument: policyJson(policy.PolicyDocument),
          }),
        );
      }
      for (const arn of (props.ManagedPolicyArns as string[] | undefined) ?? []) {
        const inline = options.inlineManagedPolicies?.[arn];
        if (inline !== undefined) {
          const name = `managed-${arn.slice(arn.lastIndexOf("/") + 1)}`;
          await clients.iam.send(
            new PutRolePolicyCommand({ RoleName: id.ref, PolicyName: name, PolicyDocument: policyJson(inline) }),
          );
        } else {
          await clients.iam.send(new AttachRolePolicyCommand({ RoleName: id.ref, PolicyArn: arn }));
        }
      }
      return;
    }
    case "AWS::IAM::User": {
      const out = await clients.iam.send(
        new CreateUserCommand({
          UserName: id.ref,
          Path: (props.Path as string | undefined) ?? "/",
          Tags: tagsOf(props),
        }),
      );
      expectSame(`${resource.logicalId} ARN`, id.attributes.Arn as string, out.User?.Arn);
      return;
    }
    case "AWS::SSM::Document": {
      // CloudFormation sends an object Content as JSON text.
      const content = props.Content;
      const isText = typeof content === "string";
      await clients.ssm.send(
        new CreateDocumentCommand({
          Name: id.ref,
          Content: isText ? content : JSON.stringify(content),
          DocumentType: props.DocumentType as DocumentType | undefined,
          DocumentFormat: (isText ? (props.DocumentFormat as DocumentFormat | undefined) : "JSON") ?? "JSON",
          TargetType: props.TargetType as string | undefined,
          Tags: tagsOf(props),
        }),
      );
      return;
    }
    case "AWS::SNS::Topic": {
      const attributes: Record<string, string> = {};
      if (typeof props.DisplayName === "string") attributes.DisplayName = props.DisplayName;
      if (typeof props.KmsMasterKeyId === "string") attributes.KmsMasterKeyId = props.KmsMasterKeyId;
      const out = await clients.sns.send(
        new CreateTopicCommand({ Name: id.attributes.TopicName, Attributes: attributes, Tags: tagsOf(props) }),
      );
      expectSame(`${resource.logicalId} ARN`, id.ref, out.TopicArn);
      return;
    }
    case "AWS::Scheduler::ScheduleGroup": {
      const tags = tagsOf(props);
      const out = await clients.scheduler.send(
        new CreateScheduleGroupCommand({
          Name: id.ref,
          ...(tags ? { Tags: tags as { Key: string; Value: string }[] } : {}),
        }),
      );
      expectSame(`${resource.logicalId} ARN`, id.attributes.Arn as string, out.ScheduleGroupArn);
      return;
    }
    default:
      throw new Error(`${resource.logicalId}: ${resource.type} is not supported by the sandbox deployer`);
  }
}

/**
 * Creates the template's resources in the target account. Not transactional:
 * a failure leaves the resources created so far, as CloudFormation with
 * rollback disabled would; the sandbox is thrown away after each test.
 */
export async function deployTemplate(options: DeployOptions): Promise<DeployResult> {
  const text = options.templateText ?? readFileSync(options.templatePath, "utf8");
  const plan = planDeployment({
    template: parseTemplate(text, options.templatePath),
    parameters: options.parameters,
    accountId: options.accountId,
    region: options.region,
    ...(options.partition ? { partition: options.partition } : {}),
    ...(options.stackName ? { stackName: options.stackName } : {}),
  });
  const clients = options.clients ?? buildClients(options);
  const physicalIds: Record<string, string> = {};
  for (const resource of plan.resources) {
    try {
      await createResource(resource, clients, options);
    } catch (error) {
      throw new Error(`creating ${resource.logicalId} (${resource.type}) failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    physicalIds[resource.logicalId] = resource.identity.ref;
  }
  return { plan, outputs: plan.outputs, physicalIds };
}
