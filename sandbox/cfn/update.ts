/**
 * Stack updates for the sandbox's mini CloudFormation: given the stack as an
 * earlier deployment left it, plan the new template and change the account
 * the way CloudFormation would for the resource types infra/template.yaml uses.
 *
 * What CloudFormation does, and what the sandbox therefore does:
 *   - A property whose change "requires replacement" replaces the resource; a
 *     resource with a custom name cannot be replaced: the update fails with
 *     "CloudFormation cannot update a stack when a custom-named resource
 *     requires replacing. Rename '<name>' and update the stack again."
 *     ("You can't perform an update that causes a custom-named resource to be
 *     replaced. If you must replace the resource, specify a new name.",
 *     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html;
 *     the message: https://repost.aws/knowledge-center/cloudformation-custom-name).
 *     CloudFormation then rolls back, so the stack ends as it was; the sandbox
 *     decides every change before it calls any service, so it ends the same way.
 *   - AWS::SSM::Document: "If the document resource you specify in your template
 *     already exists, this parameter [UpdateMethod] determines whether a new
 *     version of the existing document is created, or the existing document is
 *     replaced. Replace is the default method. … When you specify NewVersion, the
 *     default version of the document is changed to the newly created version."
 *     (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-document.html#cfn-ssm-document-updatemethod)
 *     NewVersion is modelled as UpdateDocument then UpdateDocumentDefaultVersion.
 *     That promotion has been reported not to happen
 *     (aws-cloudformation/cloudformation-coverage-roadmap#2539), so
 *     `promoteDefaultVersion: false` reproduces that report for tests.
 *   - Replacement-requiring properties come from the resource types' provider
 *     schemas (`createOnlyProperties`, as cfn-lint ships them): OIDC provider Url;
 *     role RoleName, Path; topic TopicName, FifoTopic; document Name, DocumentType.
 *     The document schema lists Content, DocumentFormat, TargetType (and
 *     Attachments, VersionName, Requires, which the template does not use) as
 *     `conditionalCreateOnlyProperties`: replaced or versioned per UpdateMethod,
 *     which the sandbox reads from the new template. Changing UpdateMethod alone
 *     replaces nothing (it is write-only and not create-only).
 *   - Resources that appear are created; resources that disappear (a Condition
 *     turned false, a resource removed) are deleted after everything else, in
 *     reverse dependency order ("cleanup" phase).
 *
 * Anything else (a property CloudFormation updates in place but the sandbox
 * does not model, or the replacement of a resource without a custom name) is a
 * located error, never silently skipped.
 */
import { readFileSync } from "node:fs";
import {
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from "@aws-sdk/client-iam";
import { DeleteScheduleGroupCommand } from "@aws-sdk/client-scheduler";
import { DeleteTopicCommand } from "@aws-sdk/client-sns";
import {
  DeleteDocumentCommand,
  type DocumentFormat,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import {
  buildClients,
  createResource,
  type DeployClients,
  type DeploymentPlan,
  type DeployOptions,
  type DeployResult,
  NAME_PROPERTY,
  type PlannedResource,
  planDeployment,
  policyJson,
} from "./deploy.js";
import { isPlainObject, parseTemplate, TemplateError } from "./template.js";

/** Properties whose change makes CloudFormation replace the resource (provider schema createOnlyProperties). */
const REPLACEMENT_PROPERTIES: Record<string, string[]> = {
  "AWS::IAM::OIDCProvider": ["Url"],
  "AWS::IAM::Role": ["RoleName", "Path"],
  "AWS::IAM::User": ["UserName", "Path"],
  "AWS::SNS::Topic": ["TopicName", "FifoTopic"],
  "AWS::SSM::Document": ["Name", "DocumentType"],
  "AWS::Scheduler::ScheduleGroup": ["Name"],
};

/** Properties the sandbox updates in place (each with the API CloudFormation's handler uses). */
const IN_PLACE_PROPERTIES: Record<string, string[]> = {
  "AWS::IAM::OIDCProvider": [],
  // UpdateAssumeRolePolicy, UpdateRole, PutRolePolicy / DeleteRolePolicy.
  "AWS::IAM::Role": ["AssumeRolePolicyDocument", "Description", "MaxSessionDuration", "Policies"],
  "AWS::IAM::User": [],
  "AWS::SNS::Topic": [],
  // UpdateMethod itself changes nothing in SSM; the others go through UpdateDocument.
  "AWS::SSM::Document": ["Content", "DocumentFormat", "TargetType", "UpdateMethod"],
  "AWS::Scheduler::ScheduleGroup": [],
};

/** Document properties that are a new document version under NewVersion and a replacement under Replace. */
const DOCUMENT_VERSIONED_PROPERTIES = ["Content", "DocumentFormat", "TargetType"];

export type ChangeAction = "create" | "update" | "delete" | "none";

export interface ResourceChange {
  logicalId: string;
  type: string;
  action: ChangeAction;
  /** Top-level properties whose resolved values differ. */
  changed: string[];
}

export interface UpdateOptions extends DeployOptions {
  /** The stack as it is now (what deployTemplate or an earlier updateStack returned). */
  stack: DeployResult;
  /**
   * Whether UpdateMethod NewVersion makes the new version the default, as
   * CloudFormation documents (default true). `false` reproduces the reported
   * case where it does not.
   */
  promoteDefaultVersion?: boolean;
}

export interface UpdateResult extends DeployResult {
  changes: ResourceChange[];
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key order does not make a property different. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical(value[k])]),
    );
  }
  return value;
}

function changedProperties(before: PlannedResource, after: PlannedResource): string[] {
  const keys = new Set([...Object.keys(before.properties), ...Object.keys(after.properties)]);
  return [...keys].filter((k) => !sameValue(before.properties[k], after.properties[k])).sort();
}

function customNameOf(resource: PlannedResource): string | undefined {
  const property = NAME_PROPERTY[resource.type];
  const name = property === undefined ? undefined : resource.properties[property];
  return typeof name === "string" ? name : undefined;
}

/**
 * Decides what an update does to each resource, or throws as CloudFormation
 * fails the update. Pure: nothing is called yet.
 */
export function planUpdate(previous: DeploymentPlan, next: DeploymentPlan): ResourceChange[] {
  const before = new Map(previous.resources.map((r) => [r.logicalId, r]));
  const after = new Map(next.resources.map((r) => [r.logicalId, r]));
  const changes: ResourceChange[] = [];
  for (const resource of next.resources) {
    const old = before.get(resource.logicalId);
    if (!old) {
      changes.push({ logicalId: resource.logicalId, type: resource.type, action: "create", changed: [] });
      continue;
    }
    const path = `Resources.${resource.logicalId}`;
    if (old.type !== resource.type) {
      throw new TemplateError(`${path}.Type`, `changing ${old.type} to ${resource.type} replaces the resource`);
    }
    const changed = changedProperties(old, resource);
    if (changed.length === 0) {
      changes.push({ logicalId: resource.logicalId, type: resource.type, action: "none", changed });
      continue;
    }
    const replacing = changed.filter(
      (p) =>
        REPLACEMENT_PROPERTIES[resource.type]?.includes(p) ||
        (resource.type === "AWS::SSM::Document" &&
          DOCUMENT_VERSIONED_PROPERTIES.includes(p) &&
          // The new template's method decides ("this parameter determines whether a
          // new version … is created, or the existing document is replaced").
          (resource.properties.UpdateMethod ?? "Replace") !== "NewVersion"),
    );
    if (replacing.length > 0) {
      const name = customNameOf(old);
      // Renaming is the documented way out: a new name is a new resource, not a replacement in place.
      if (name !== undefined && customNameOf(resource) === name) {
        throw new TemplateError(
          path,
          `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename '${name}' and update the stack again. (${replacing.join(", ")} changed)`,
        );
      }
      throw new TemplateError(
        path,
        `replacing ${resource.type} (${replacing.join(", ")} changed) is not modelled by the sandbox deployer`,
      );
    }
    const unmodelled = changed.filter((p) => !IN_PLACE_PROPERTIES[resource.type]?.includes(p));
    if (unmodelled.length > 0) {
      throw new TemplateError(
        path,
        `updating ${unmodelled.join(", ")} of ${resource.type} is not modelled by the sandbox deployer`,
      );
    }
    changes.push({ logicalId: resource.logicalId, type: resource.type, action: "update", changed });
  }
  // Cleanup: what the new template no longer has, dependents before what they depend on.
  for (const resource of [...previous.resources].reverse()) {
    if (!after.has(resource.logicalId)) {
      changes.push({ logicalId: resource.logicalId, type: resource.type, action: "delete", changed: [] });
    }
  }
  return changes;
}

async function updateResource(
  old: PlannedResource,
  resource: PlannedResource,
  change: ResourceChange,
  clients: DeployClients,
  promoteDefaultVersion: boolean,
): Promise<void> {
  const props = resource.properties;
  const name = resource.identity.ref;
  switch (resource.type) {
    case "AWS::IAM::Role": {
      if (change.changed.includes("AssumeRolePolicyDocument")) {
        await clients.iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: name,
            PolicyDocument: policyJson(props.AssumeRolePolicyDocument),
          }),
        );
      }
      if (change.changed.includes("Description") || change.changed.includes("MaxSessionDuration")) {
        await clients.iam.send(
          new UpdateRoleCommand({
            RoleName: name,
            // UpdateRole sets what it is given; CloudFormation gives the template's values.
            Description: (props.Description as string | undefined) ?? "",
            ...(props.MaxSessionDuration !== undefined ? { MaxSessionDuration: Number(props.MaxSessionDuration) } : {}),
          }),
        );
      }
      if (change.changed.includes("Policies")) {
        const policies = (list: unknown) =>
          new Map(
            ((list as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []).map((p) => [
              p.PolicyName,
              p.PolicyDocument,
            ]),
          );
        const wanted = policies(props.Policies);
        const had = policies(old.properties.Policies);
        for (const [policyName, document] of wanted) {
          if (had.has(policyName) && sameValue(had.get(policyName), document)) continue;
          await clients.iam.send(
            new PutRolePolicyCommand({ RoleName: name, PolicyName: policyName, PolicyDocument: policyJson(document) }),
          );
        }
        for (const policyName of had.keys()) {
          if (!wanted.has(policyName)) {
            await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
          }
        }
      }
      return;
    }
    case "AWS::SSM::Document": {
      if (!change.changed.some((p) => DOCUMENT_VERSIONED_PROPERTIES.includes(p))) return; // UpdateMethod only
      const content = props.Content;
      const isText = typeof content === "string";
      const out = await clients.ssm.send(
        new UpdateDocumentCommand({
          Name: name,
          Content: isText ? content : JSON.stringify(content),
          // "Currently, Systems Manager supports updating only the latest version of the document."
          DocumentVersion: "$LATEST",
          DocumentFormat: (isText ? (props.DocumentFormat as DocumentFormat | undefined) : "JSON") ?? "JSON",
          TargetType: props.TargetType as string | undefined,
        }),
      );
      const version = out.DocumentDescription?.DocumentVersion;
      if (!version) throw new Error(`${resource.logicalId}: UpdateDocument returned no version`);
      if (promoteDefaultVersion) {
        await clients.ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }));
      }
      return;
    }
    default:
      throw new Error(`${resource.logicalId}: updating ${resource.type} is not modelled by the sandbox deployer`);
  }
}

async function deleteResource(resource: PlannedResource, clients: DeployClients): Promise<void> {
  const id = resource.identity;
  switch (resource.type) {
    case "AWS::IAM::Role": {
      // IAM refuses to delete a role that still has policies (DeleteConflict); CloudFormation removes them first.
      for (const policy of (resource.properties.Policies as { PolicyName: string }[] | undefined) ?? []) {
        await clients.iam.send(new DeleteRolePolicyCommand({ RoleName: id.ref, PolicyName: policy.PolicyName }));
      }
      if (((resource.properties.ManagedPolicyArns as unknown[] | undefined) ?? []).length > 0) {
        throw new Error(`${resource.logicalId}: deleting a role with managed policies is not modelled by the sandbox`);
      }
      await clients.iam.send(new DeleteRoleCommand({ RoleName: id.ref }));
      return;
    }
    case "AWS::SSM::Document":
      await clients.ssm.send(new DeleteDocumentCommand({ Name: id.ref }));
      return;
    case "AWS::SNS::Topic":
      await clients.sns.send(new DeleteTopicCommand({ TopicArn: id.ref }));
      return;
    case "AWS::IAM::OIDCProvider":
      await clients.iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: id.ref }));
      return;
    case "AWS::Scheduler::ScheduleGroup":
      // Deleting a group deletes the schedules in it.
      await clients.scheduler.send(new DeleteScheduleGroupCommand({ Name: id.ref }));
      return;
    default:
      throw new Error(`${resource.logicalId}: deleting ${resource.type} is not modelled by the sandbox deployer`);
  }
}

/**
 * Updates a deployed stack to a new template (or new parameters): plans it,
 * decides every change (failing as CloudFormation fails, before anything is
 * touched), then creates, updates and finally deletes resources.
 */
export async function updateStack(options: UpdateOptions): Promise<UpdateResult> {
  const text = options.templateText ?? readFileSync(options.templatePath, "utf8");
  const previous = options.stack.plan;
  const existing = Object.fromEntries(previous.resources.map((r) => [r.logicalId, r.identity]));
  const plan = planDeployment({
    template: parseTemplate(text, options.templatePath),
    parameters: options.parameters,
    accountId: options.accountId,
    region: options.region,
    existing,
    ...(options.partition ? { partition: options.partition } : {}),
    ...(options.stackName ? { stackName: options.stackName } : {}),
  });
  const changes = planUpdate(previous, plan);
  const clients = options.clients ?? buildClients(options);
  const before = new Map(previous.resources.map((r) => [r.logicalId, r]));
  const after = new Map(plan.resources.map((r) => [r.logicalId, r]));
  for (const change of changes) {
    const resource = change.action === "delete" ? before.get(change.logicalId) : after.get(change.logicalId);
    if (!resource || change.action === "none") continue;
    const verb = { create: "creating", update: "updating", delete: "deleting" }[change.action];
    try {
      if (change.action === "create") await createResource(resource, clients, options);
      else if (change.action === "delete") await deleteResource(resource, clients);
      else {
        await updateResource(
          before.get(change.logicalId) as PlannedResource,
          resource,
          change,
          clients,
          options.promoteDefaultVersion ?? true,
        );
      }
    } catch (error) {
      throw new Error(`${verb} ${change.logicalId} (${change.type}) failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const physicalIds = Object.fromEntries(plan.resources.map((r) => [r.logicalId, r.identity.ref]));
  return { plan, outputs: plan.outputs, physicalIds, changes };
}
