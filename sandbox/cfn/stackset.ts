/**
 * AWS Organizations and a service-managed CloudFormation StackSet, as far as the
 * end-to-end tests need them: an organization with OUs and accounts, a StackSet
 * whose instances target OUs, and automatic deployment to an account that joins a
 * target OU later. Each stack instance is deployed through the mini-CFN
 * (sandbox/cfn/deploy.ts) into its account, so the member template is proven the
 * same way the hub template is.
 *
 * Semantics kept (AWS CloudFormation User Guide, "Create a stack set with
 * service-managed permissions" and "Enable or disable automatic deployments for
 * StackSets in AWS Organizations",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html;
 * AWS::CloudFormation::StackSet AutoDeployment,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-cloudformation-stackset-autodeployment.html):
 *   - instances target OUs; every account in a target OU gets one per Region;
 *   - StackSets never deploy to the organization's management account, even when it is in a target OU;
 *   - with AutoDeployment Enabled, an account added to a target OU gets an instance, and
 *     an account removed from it loses it unless RetainStacksOnAccountRemoval is true
 *     (the sandbox then deletes nothing and marks the instance retained; resources are
 *     not torn down, as the tests only need to see the instance go).
 * Not a wire protocol: tests drive it directly (the product never calls these APIs).
 */
import type { AwsSandbox } from "../aws/index.js";
import { type DeployResult, deployTemplate } from "./deploy.js";

export interface StackSetInput {
  name: string;
  templatePath: string;
  parameters: Record<string, string>;
  autoDeployment: { Enabled: boolean; RetainStacksOnAccountRemoval?: boolean };
  /** Stand-ins for AWS managed policies (sandbox/cfn/deploy.ts inlineManagedPolicies). */
  inlineManagedPolicies?: Record<string, unknown>;
}

export interface StackInstance {
  stackSetName: string;
  accountId: string;
  region: string;
  status: "CURRENT" | "OUTDATED" | "DELETED" | "RETAINED";
  ouId: string;
  stack?: DeployResult;
  statusReason?: string;
}

interface StackSet extends StackSetInput {
  targetOus: Set<string>;
  regions: Set<string>;
}

let nextOu = 0;

export class SandboxOrganization {
  readonly id: string;
  readonly managementAccountId: string;
  readonly #aws: AwsSandbox;
  readonly #ous = new Map<string, { name: string; accounts: Set<string> }>();
  readonly #stackSets = new Map<string, StackSet>();
  readonly instances: StackInstance[] = [];

  constructor(aws: AwsSandbox, managementAccountId = aws.defaultAccountId) {
    this.#aws = aws;
    this.managementAccountId = managementAccountId;
    this.id = `o-${managementAccountId.slice(0, 10)}`;
  }

  /** CreateOrganizationalUnit: returns the OU id (ou-<root>-<suffix>). */
  createOu(name: string): string {
    const id = `ou-root-${String(++nextOu).padStart(8, "0")}`;
    this.#ous.set(id, { name, accounts: new Set() });
    return id;
  }

  accountsIn(ouId: string): string[] {
    return [...(this.#ou(ouId).accounts ?? [])].sort();
  }

  /**
   * CreateAccount / InviteAccountToOrganization + MoveAccount into `ouId`. The sandbox
   * account is created if needed; every auto-deploying StackSet that targets the OU
   * deploys its instance there (awaited: the test sees the result).
   */
  async addAccount(ouId: string, accountId: string): Promise<StackInstance[]> {
    this.#aws.addAccount(accountId);
    for (const ou of this.#ous.values()) ou.accounts.delete(accountId);
    this.#ou(ouId).accounts.add(accountId);
    const deployed: StackInstance[] = [];
    for (const set of this.#stackSets.values()) {
      if (!set.autoDeployment.Enabled || !set.targetOus.has(ouId)) continue;
      for (const region of set.regions) deployed.push(await this.#deployInstance(set, ouId, accountId, region));
    }
    return deployed;
  }

  /** MoveAccount out of its OU (to the root): auto-deployment removes or retains its instances. */
  removeAccount(accountId: string): void {
    for (const [ouId, ou] of this.#ous) {
      if (!ou.accounts.delete(accountId)) continue;
      for (const set of this.#stackSets.values()) {
        if (!set.autoDeployment.Enabled || !set.targetOus.has(ouId)) continue;
        for (const i of this.instances) {
          if (i.stackSetName === set.name && i.accountId === accountId && i.status === "CURRENT") {
            i.status = set.autoDeployment.RetainStacksOnAccountRemoval ? "RETAINED" : "DELETED";
          }
        }
      }
    }
  }

  /** CreateStackSet with PermissionModel SERVICE_MANAGED. */
  createStackSet(input: StackSetInput): void {
    if (this.#stackSets.has(input.name)) throw new Error(`NameAlreadyExistsException: StackSet ${input.name} exists`);
    if (input.autoDeployment.RetainStacksOnAccountRemoval !== undefined && !input.autoDeployment.Enabled) {
      // "Specify only if Enabled is set to True."
      throw new Error("ValidationError: RetainStacksOnAccountRemoval needs AutoDeployment Enabled");
    }
    this.#stackSets.set(input.name, { ...input, targetOus: new Set(), regions: new Set() });
  }

  /** CreateStackInstances with DeploymentTargets OrganizationalUnitIds. */
  async createStackInstances(name: string, ouIds: string[], regions: string[]): Promise<StackInstance[]> {
    const set = this.#stackSets.get(name);
    if (!set) throw new Error(`StackSetNotFoundException: ${name}`);
    const out: StackInstance[] = [];
    for (const ouId of ouIds) {
      this.#ou(ouId);
      set.targetOus.add(ouId);
      for (const region of regions) {
        set.regions.add(region);
        for (const accountId of this.accountsIn(ouId))
          out.push(await this.#deployInstance(set, ouId, accountId, region));
      }
    }
    return out;
  }

  /** ListStackInstances. */
  stackInstances(name: string): StackInstance[] {
    return this.instances.filter((i) => i.stackSetName === name);
  }

  #ou(ouId: string) {
    const ou = this.#ous.get(ouId);
    if (!ou) throw new Error(`OrganizationalUnitNotFoundException: ${ouId}`);
    return ou;
  }

  async #deployInstance(set: StackSet, ouId: string, accountId: string, region: string): Promise<StackInstance> {
    const existing = this.instances.find(
      (i) => i.stackSetName === set.name && i.accountId === accountId && i.region === region && i.status === "CURRENT",
    );
    if (existing) return existing;
    const instance: StackInstance = { stackSetName: set.name, accountId, region, ouId, status: "CURRENT" };
    if (accountId === this.managementAccountId) {
      // Service-managed StackSets skip the management account: no instance there.
      return { ...instance, status: "DELETED", statusReason: "the management account gets no stack instance" };
    }
    if (region !== this.#aws.region) throw new Error(`the sandbox serves ${this.#aws.region} only, not ${region}`);
    instance.stack = await deployTemplate({
      templatePath: set.templatePath,
      parameters: set.parameters,
      accountId,
      region,
      stackName: `StackSet-${set.name}-${accountId}`,
      credentials: this.#aws.rootCredentialsFor(accountId),
      endpoints: {
        iam: this.#aws.endpoint,
        ssm: this.#aws.endpoint,
        sns: this.#aws.endpoint,
        scheduler: this.#aws.endpoint,
      },
      ...(set.inlineManagedPolicies ? { inlineManagedPolicies: set.inlineManagedPolicies } : {}),
    });
    this.instances.push(instance);
    return instance;
  }
}
