/**
 * Thin adapter over the AWS SDK: the clients a run uses, IAM reads, SNS.
 * Credentials (OIDC → role sessions) are in aws-session.ts, SSM Automation in
 * aws-automation.ts; both are re-exported here for the modes.
 * Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL_<SERVICE>),
 * which is how the sandbox is reached; nothing here knows about the sandbox.
 */
import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  IAMClient,
} from "@aws-sdk/client-iam";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import { SNS_SUBJECT_MAX } from "../domain/notifications.js";
import { type AwsClock, observeAwsTime } from "./aws-clock.js";
import { AWS_RETRY, type AwsCredentials, type RoleSession } from "./aws-session.js";

export * from "./aws-automation.js";
export * from "./aws-session.js";

export interface AwsClients {
  ssm: SSMClient;
  iam: IAMClient;
  sns: SNSClient;
}

/** Clients already made per credentials and region, for callers without a clock. */
const madeClients = new WeakMap<object, Map<string, AwsClients>>();

/**
 * The clients for `region` with `credentials`. Each client is made when first
 * read (a grant uses SSM before it starts anything, SNS only afterwards, IAM
 * never), and callers that pass the same credentials object share them (a grant
 * reads the ceiling and starts the runbook with one role session): making an
 * SDK client resolves its whole configuration, time the grant-start budget
 * does not have. `clock`, when given, learns AWS's time from every response of
 * these clients (aws-clock.ts); such clients are not shared.
 */
export function createClients(region: string, credentials: AwsCredentials | RoleSession, clock?: AwsClock): AwsClients {
  const shared = clock ? undefined : madeClients.get(credentials)?.get(region);
  if (shared) return shared;
  const common = { region, credentials, ...AWS_RETRY };
  const lazy = <C extends { middlewareStack: unknown }>(make: () => C): (() => C) => {
    let client: C | undefined;
    return () => {
      if (!client) {
        client = make();
        if (clock) observeAwsTime(client, clock);
      }
      return client;
    };
  };
  const ssm = lazy(() => new SSMClient(common));
  const iam = lazy(() => new IAMClient(common));
  const sns = lazy(() => new SNSClient(common));
  const clients: AwsClients = {
    get ssm() {
      return ssm();
    },
    get iam() {
      return iam();
    },
    get sns() {
      return sns();
    },
  };
  if (!clock) {
    const byRegion = madeClients.get(credentials) ?? new Map<string, AwsClients>();
    byRegion.set(region, clients);
    madeClients.set(credentials, byRegion);
  }
  return clients;
}

export type UserDetail = NonNullable<GetAccountAuthorizationDetailsCommandOutput["UserDetailList"]>[number];
export type RoleDetail = NonNullable<GetAccountAuthorizationDetailsCommandOutput["RoleDetailList"]>[number];

/**
 * The whole account's users (and optionally roles) with their inline policies,
 * in ⌈n / 1000⌉ calls: GetAccountAuthorizationDetails returns inline policy
 * documents with each entity, unlike ListUsers + ListUserPolicies + GetUserPolicy.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export async function readAuthorizationDetails(
  iam: IAMClient,
  filter: ("User" | "Role")[],
): Promise<{ users: UserDetail[]; roles: RoleDetail[]; calls: number }> {
  const users: UserDetail[] = [];
  const roles: RoleDetail[] = [];
  let marker: string | undefined;
  let calls = 0;
  do {
    const out = await iam.send(
      new GetAccountAuthorizationDetailsCommand({
        Filter: filter,
        MaxItems: 1000,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    calls++;
    users.push(...(out.UserDetailList ?? []));
    roles.push(...(out.RoleDetailList ?? []));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return { users, roles, calls };
}

export async function publishNotification(
  sns: SNSClient,
  input: { topicArn: string; subject: string; message: string },
): Promise<string | undefined> {
  // SNS subjects: ASCII, no line breaks or control characters, less than 100 characters.
  const subject = input.subject.replace(/[^\x20-\x7e]/g, "?").slice(0, SNS_SUBJECT_MAX);
  const out = await sns.send(
    new PublishCommand({ TopicArn: input.topicArn, Subject: subject, Message: input.message }),
  );
  return out.MessageId;
}
