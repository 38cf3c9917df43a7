/**
 * AWS credentials for a run: the job's OIDC token exchanged for role
 * credentials (AssumeRoleWithWebIdentity), and role sessions that renew
 * themselves before they run out. Only the STS client is imported here.
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type AwsClock, observeAwsTime } from "./aws-clock.js";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Adaptive retry backs off on throttling across all calls of one client. */
export const AWS_RETRY = { maxAttempts: 6, retryMode: "adaptive" } as const;

/**
 * Exchanges the job's OIDC token for role credentials. AssumeRoleWithWebIdentity
 * is unsigned, so no ambient credentials are needed (or used).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 */
export async function assumeRoleWithWebIdentity(input: {
  region: string;
  roleArn: string;
  webIdentityToken: string;
  sessionName: string;
  /** 900 up to the role's MaxSessionDuration (AssumeRoleWithWebIdentity `DurationSeconds`). */
  durationSeconds: number;
  /** Learns AWS's time from the STS response (aws-clock.ts). */
  clock?: AwsClock;
}): Promise<AwsCredentials> {
  const sts = new STSClient({
    region: input.region,
    ...AWS_RETRY,
    // Unsigned call: never pick up credentials from the environment.
    credentials: { accessKeyId: "", secretAccessKey: "" },
    signer: { sign: async (request) => request },
  });
  if (input.clock) observeAwsTime(sts, input.clock);
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: input.roleArn,
      RoleSessionName: input.sessionName,
      WebIdentityToken: input.webIdentityToken,
      DurationSeconds: input.durationSeconds,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new Error(`AssumeRoleWithWebIdentity for ${input.roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  };
}

/**
 * What a run asks beyond its longest wait (`timeout-seconds`): reading the PR
 * and IAM, starting executions, notifications and the report.
 */
export const SESSION_MARGIN_SECONDS = 900;

/**
 * The role session a run asks for: its wait plus margin, within what
 * AssumeRoleWithWebIdentity accepts (900 s to 12 h). With `timeout-seconds` at
 * its maximum, 3,600, that is 4,500 s; the grant and revoke roles'
 * MaxSessionDuration (7,200 s in infra/template.yaml) allows it.
 */
export function sessionSecondsFor(timeoutSeconds: number): number {
  return Math.min(43_200, Math.max(900, Math.ceil(timeoutSeconds) + SESSION_MARGIN_SECONDS));
}

/** What every role accepts: AssumeRoleWithWebIdentity's default, and the smallest MaxSessionDuration IAM allows. */
const ALWAYS_ALLOWED_SESSION_SECONDS = 3600;

/**
 * A session is renewed once less than this is left of it. The AWS SDK asks its
 * credential provider again when less than 5 minutes are left; renewing a
 * minute earlier than that makes the SDK's question always find fresh ones.
 */
export const RENEW_BEFORE_MS = 6 * 60_000;

/**
 * A role session that outlives one set of credentials: an AWS SDK credential
 * provider that assumes the role again (with a new OIDC token) before the
 * current credentials run out. The SDK clients call it for every request and
 * only get new credentials when the old ones are near their end.
 */
export type RoleSession = () => Promise<AwsCredentials & { expiration: Date }>;

/**
 * Assumes `roleArn` through the job's OIDC token for `durationSeconds`, and
 * returns a RoleSession that renews it. The first assumption happens here, so
 * a refusal (trust policy, token) is thrown at once, as before.
 *
 * When the role's MaxSessionDuration is below `durationSeconds` (a stack
 * deployed before the grant and revoke roles allowed 7,200 s), STS refuses
 * with a ValidationError; the session then asks for 3,600 s, which every role
 * allows, says so through `onShortSession`, and relies on renewal.
 *
 * Lifetimes are measured on this process's clock from the moment of the
 * request, not read from STS's `Expiration`: a runner clock that is off by
 * minutes must not make a session look longer than it is.
 */
export async function openRoleSession(input: {
  region: string;
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** A fresh OIDC token of the job (a renewal needs a new one: GitHub's expire after minutes). */
  webIdentityToken: () => Promise<string>;
  now?: () => number;
  onShortSession?: (message: string) => void;
  /** Learns AWS's time from the STS responses (aws-clock.ts). */
  clock?: AwsClock;
}): Promise<RoleSession> {
  const now = input.now ?? Date.now;
  let seconds = input.durationSeconds;
  const assume = async (): Promise<AwsCredentials & { expiration: Date }> => {
    const requestedAt = now();
    const token = await input.webIdentityToken();
    let credentials: AwsCredentials;
    try {
      credentials = await assumeRoleWithWebIdentity({ ...input, webIdentityToken: token, durationSeconds: seconds });
    } catch (error) {
      const e = error as { name?: string; message?: string };
      if (
        seconds <= ALWAYS_ALLOWED_SESSION_SECONDS ||
        e.name !== "ValidationError" ||
        !/MaxSessionDuration/.test(e.message ?? "")
      ) {
        throw error;
      }
      input.onShortSession?.(
        `${input.roleArn} does not allow a ${seconds}-second session (its MaxSessionDuration is lower; update the Elevate stack, which sets 7200): using ${ALWAYS_ALLOWED_SESSION_SECONDS}-second sessions, renewed before they expire`,
      );
      seconds = ALWAYS_ALLOWED_SESSION_SECONDS;
      credentials = await assumeRoleWithWebIdentity({ ...input, webIdentityToken: token, durationSeconds: seconds });
    }
    return { ...credentials, expiration: new Date(requestedAt + seconds * 1000) };
  };
  let current = await assume();
  let renewing: Promise<AwsCredentials & { expiration: Date }> | undefined;
  return async () => {
    if (current.expiration.getTime() - now() > RENEW_BEFORE_MS) return current;
    // One renewal at a time, however many clients ask at once.
    renewing ??= assume().finally(() => {
      renewing = undefined;
    });
    current = await renewing;
    return current;
  };
}
