/**
 * `elevate doctor --aws`: reads, with the default AWS credential chain (read-only IAM
 * and SSM calls), the facts src/domain/doctor-aws.ts judges: each runbook's versions,
 * the GitHub OIDC provider, the grant and revoke roles' trust policies, and each
 * configured IAM user's path and tags. The stack's outputs and parameters come from
 * describe-stacks JSON (--stack-outputs), as for `elevate init`.
 *
 * Calls: sts:GetCallerIdentity (whose credentials), iam:GetOpenIDConnectProvider, iam:GetRole, iam:GetUser, iam:ListUserTags,
 * ssm:DescribeDocument; with aws.identityCenter, identitystore:GetUserId for each
 * Identity Center user and, with the stack's IdentityCenterEligibleGroupId,
 * identitystore:IsMemberInGroups (the runbook's own eligibility check).
 */
import {
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  ListUserTagsCommand,
} from "@aws-sdk/client-iam";
import {
  GetUserIdCommand,
  IdentitystoreClient,
  IsMemberInGroupsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-identitystore";
import { DescribeDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { ElevateConfig } from "../domain/config.js";
import type { AwsFacts, DocumentFacts, Fact, UserFacts } from "../domain/doctor-aws.js";
import type { IdentityCenterUserFacts } from "../domain/doctor-identity-center.js";
import type { StackOutputs } from "../domain/stack-outputs.js";

async function fact<T>(call: () => Promise<T>): Promise<Fact<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return { ok: false, message: `${e.name ?? "Error"}: ${e.message ?? String(error)}` };
  }
}

export async function gatherAwsFacts(
  config: ElevateConfig,
  stack: StackOutputs | undefined,
  repository: string | undefined,
): Promise<AwsFacts> {
  const region = config.aws.region;
  const iam = new IAMClient({ region });
  const ssm = new SSMClient({ region });
  const sts = new STSClient({ region });
  try {
    const caller = await fact(async () => {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      return { account: identity.Account ?? "?", arn: identity.Arn ?? "?" };
    });
    const documents: DocumentFacts[] = [
      { configKey: "grantDocument" as const, name: config.aws.grantDocument },
      { configKey: "revokeDocument" as const, name: config.aws.revokeDocument },
      ...(stack
        ? [
            { configKey: "clearCutoffDocument" as const, name: stack.values.get("ClearCutoffDocumentName") },
            { configKey: "grantApprovalDocument" as const, name: stack.values.get("GrantApprovalDocumentName") },
          ]
        : []),
    ]
      .filter((d): d is { configKey: DocumentFacts["configKey"]; name: string } => typeof d.name === "string")
      .map((d) => ({ ...d, versions: { ok: false, message: "not read" } as DocumentFacts["versions"] }));
    for (const doc of documents) {
      doc.versions = await fact(async () => {
        const { Document } = await ssm.send(new DescribeDocumentCommand({ Name: doc.name }));
        return { defaultVersion: Document?.DefaultVersion ?? "?", latestVersion: Document?.LatestVersion ?? "?" };
      });
    }

    const providerArn =
      stack?.values.get("OidcProviderArn") ??
      `arn:aws:iam::${config.aws.accountId}:oidc-provider/token.actions.githubusercontent.com`;
    const clientIds = await fact(async () => {
      const response = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
      return response.ClientIDList ?? [];
    });

    const trusts: AwsFacts["trusts"] = [];
    for (const configKey of ["grantRoleArn", "revokeRoleArn"] as const) {
      const arn = config.aws[configKey];
      const name = arn.slice(arn.lastIndexOf("/") + 1);
      trusts.push({
        configKey,
        arn,
        trust: await fact(async () => {
          const { Role } = await iam.send(new GetRoleCommand({ RoleName: name }));
          return JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? "{}")) as unknown;
        }),
      });
    }

    const users: UserFacts[] = [];
    for (const [login, { iamUser }] of Object.entries(config.users)) {
      if (iamUser === undefined) continue; // an Identity Center user only: no IAM user to check
      users.push({
        login,
        iamUser,
        user: await fact(async () => {
          const { User } = await iam.send(new GetUserCommand({ UserName: iamUser }));
          const { Tags } = await iam.send(new ListUserTagsCommand({ UserName: iamUser }));
          return {
            path: User?.Path ?? "/",
            tags: Object.fromEntries((Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
          };
        }),
      });
    }
    const identityCenterUsers = await gatherIdentityCenterUsers(config, stack);
    return {
      stack,
      caller,
      documents,
      oidcProvider: { arn: providerArn, clientIds },
      trusts,
      users,
      identityCenterUsers,
      repository,
    };
  } finally {
    iam.destroy();
    ssm.destroy();
    sts.destroy();
  }
}

/** Each `identityCenterUser`: its id in the identity store and, when the stack names the group, its membership. */
async function gatherIdentityCenterUsers(
  config: ElevateConfig,
  stack: StackOutputs | undefined,
): Promise<IdentityCenterUserFacts[]> {
  const center = config.aws.identityCenter;
  const entries = Object.entries(config.users).flatMap(([login, { identityCenterUser }]) =>
    identityCenterUser === undefined ? [] : [{ login, userName: identityCenterUser }],
  );
  if (center === undefined || entries.length === 0) return [];
  const groupId = stack?.parameters.get("IdentityCenterEligibleGroupId") || undefined;
  const store = new IdentitystoreClient({ region: config.aws.region });
  try {
    const out: IdentityCenterUserFacts[] = [];
    for (const { login, userName } of entries) {
      out.push({
        login,
        userName,
        user: await fact(async () => {
          let userId: string;
          try {
            const found = await store.send(
              new GetUserIdCommand({
                IdentityStoreId: center.identityStoreId,
                AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: userName } },
              }),
            );
            userId = found.UserId ?? "";
          } catch (error) {
            if (error instanceof ResourceNotFoundException) return { found: false as const };
            throw error;
          }
          if (groupId === undefined) return { found: true as const, userId };
          const { Results } = await store.send(
            new IsMemberInGroupsCommand({
              IdentityStoreId: center.identityStoreId,
              MemberId: { UserId: userId },
              GroupIds: [groupId],
            }),
          );
          const member = Results?.find((r) => r.GroupId === groupId)?.MembershipExists === true;
          return { found: true as const, userId, groupId, member };
        }),
      });
    }
    return out;
  } finally {
    store.destroy();
  }
}
