/**
 * The AWS SDK clients the sandbox itself calls its own endpoint with: the
 * automation engine (aws:executeAwsApi) and EventBridge Scheduler (universal
 * targets). Both name an API the way AWS does (service id + operation) and get
 * the real SDK command for it, so a runbook's or a schedule's call is signed,
 * authorized and answered exactly like any other caller's.
 */
import * as iamSdk from "@aws-sdk/client-iam";
import { IAMClient } from "@aws-sdk/client-iam";
import * as identityStoreSdk from "@aws-sdk/client-identitystore";
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import * as schedulerSdk from "@aws-sdk/client-scheduler";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import * as snsSdk from "@aws-sdk/client-sns";
import { SNSClient } from "@aws-sdk/client-sns";
import * as ssmSdk from "@aws-sdk/client-ssm";
import { SSMClient } from "@aws-sdk/client-ssm";
import * as ssoAdminSdk from "@aws-sdk/client-sso-admin";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import * as stsSdk from "@aws-sdk/client-sts";
import { STSClient } from "@aws-sdk/client-sts";
import type { SandboxCore } from "./context.js";
import type { IssuedCredential } from "./iam-store.js";

export type SdkClient = { send(c: unknown): Promise<unknown>; destroy(): void };

/** Lower-case SDK service id -> client class and the module that holds its commands. */
export const SDK_MODULES: Record<
  string,
  { client: new (config: object) => SdkClient; module: Record<string, unknown> }
> = {
  iam: { client: IAMClient as never, module: iamSdk as unknown as Record<string, unknown> },
  sts: { client: STSClient as never, module: stsSdk as unknown as Record<string, unknown> },
  sns: { client: SNSClient as never, module: snsSdk as unknown as Record<string, unknown> },
  ssm: { client: SSMClient as never, module: ssmSdk as unknown as Record<string, unknown> },
  scheduler: { client: SchedulerClient as never, module: schedulerSdk as unknown as Record<string, unknown> },
  // aws:executeAwsApi names services as botocore does: "sso-admin", "identitystore".
  "sso-admin": { client: SSOAdminClient as never, module: ssoAdminSdk as unknown as Record<string, unknown> },
  identitystore: {
    client: IdentitystoreClient as never,
    module: identityStoreSdk as unknown as Record<string, unknown>,
  },
};

/** The SDK command class for `service`/`api` (any case for the first letter), or undefined. */
export function sdkCommand(
  service: string,
  api: string,
): { client: new (config: object) => SdkClient; Command: new (input: unknown) => unknown } | undefined {
  const sdk = SDK_MODULES[service.toLowerCase()];
  if (!sdk) return undefined;
  const name = api.charAt(0).toUpperCase() + api.slice(1);
  const Command = sdk.module[`${name}Command`] as (new (input: unknown) => unknown) | undefined;
  return Command ? { client: sdk.client, Command } : undefined;
}

/** A client of `service` for the sandbox endpoint, signing with `credential`. */
export function sandboxClient(
  core: SandboxCore,
  clientClass: new (config: object) => SdkClient,
  credential: IssuedCredential,
  maxAttempts = 3,
): SdkClient {
  return new clientClass({
    endpoint: core.endpoint(),
    region: core.region,
    credentials: {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
    maxAttempts,
    // The sandbox's services run inside AWS, on AWS's clock; the host's clock is not, so
    // the SDK must not correct for the skew it sees in the sandbox's Date header (it
    // would then retry every failed call once).
    systemClockOffset: core.clock.now().getTime() - Date.now(),
    disableClockSkewCorrection: true,
  });
}
