/**
 * STS over the AWS query protocol (Version 2011-06-15): AssumeRole,
 * AssumeRoleWithWebIdentity, GetCallerIdentity, plus the service-principal
 * assumption the SSM Automation engine uses for `AutomationAssumeRole`.
 * https://docs.aws.amazon.com/STS/latest/APIReference/
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify as verifySignature } from "node:crypto";
import { evaluateTrust } from "./authz.js";
import { authorizeCall, type CallContext, requirePrincipal, type SandboxCore } from "./context.js";
import { AwsServiceError, errors } from "./errors.js";
import type { QueryHandler } from "./iam.js";
import type { IamRole, IssuedCredential } from "./iam-store.js";
import { optional, optionalInt, required } from "./wire.js";

export interface TrustedIssuer {
  /** `iss` claim value, e.g. `https://token.actions.githubusercontent.com`. */
  issuerUrl: string;
  /** RSA public key that signs the issuer's tokens (RS256). */
  publicKey: KeyObject | JsonWebKey;
  /** When set, the token header's `kid` must equal it. */
  kid?: string;
}

interface ResolvedIssuer {
  issuerUrl: string;
  key: KeyObject;
  kid: string | undefined;
}

export class TrustedIssuers {
  private readonly issuers: ResolvedIssuer[] = [];

  add(issuer: TrustedIssuer): void {
    const key =
      "asymmetricKeyType" in issuer.publicKey && typeof issuer.publicKey.export === "function"
        ? (issuer.publicKey as KeyObject)
        : createPublicKey({ key: issuer.publicKey as JsonWebKey, format: "jwk" });
    if (key.asymmetricKeyType !== "rsa") throw new Error(`trusted issuer ${issuer.issuerUrl}: key must be RSA`);
    this.issuers.push({ issuerUrl: issuer.issuerUrl.replace(/\/$/, ""), key, kid: issuer.kid });
  }

  find(iss: string, kid: string | undefined): ResolvedIssuer[] {
    const normalized = iss.replace(/\/$/, "");
    return this.issuers.filter((i) => i.issuerUrl === normalized && (i.kid === undefined || i.kid === kid));
  }
}

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function checkSessionName(name: string): void {
  if (!SESSION_NAME.test(name)) {
    throw errors.validation(
      `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
}

/** DurationSeconds: 900 s up to the role's MaxSessionDuration (AssumeRole API reference). */
function sessionDuration(requested: number | undefined, role: IamRole, chained: boolean): number {
  const duration = requested ?? 3600;
  if (duration < 900) {
    throw errors.validation(
      `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
    );
  }
  // "Role chaining limits your … session to a maximum of one hour."
  if (chained && duration > 3600) {
    throw errors.validation(
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
  }
  if (duration > role.maxSessionDuration) {
    throw errors.validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  return duration;
}

function credentialsXml(cred: IssuedCredential) {
  return {
    AccessKeyId: cred.accessKeyId,
    SecretAccessKey: cred.secretAccessKey,
    SessionToken: cred.sessionToken,
    Expiration: cred.expiration,
  };
}

function assumedRoleUser(cred: IssuedCredential) {
  const p = cred.principal;
  if (p.kind !== "role-session") throw new Error("not a role session");
  return { AssumedRoleId: `${p.role.roleId}:${p.sessionName}`, Arn: p.arn };
}

function rejectSessionPolicy(policy: string | undefined): void {
  // Session policies narrow a session; silently ignoring one would grant more than AWS would.
  if (policy !== undefined) {
    throw new AwsServiceError(
      "ValidationError",
      "Session policies (Policy, PolicyArns) are not supported by the sandbox",
      400,
    );
  }
}

interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

function invalidToken(message: string): AwsServiceError {
  return new AwsServiceError("InvalidIdentityToken", message, 400);
}

function decodeJwt(token: string): JwtParts {
  const parts = token.split(".");
  if (parts.length !== 3)
    throw invalidToken(
      "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
    );
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof header !== "object" || header === null || typeof claims !== "object" || claims === null)
      throw new Error();
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, "base64url") };
  } catch {
    throw invalidToken(
      "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
    );
  }
}

function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidToken(`Claim '${name}' must be a NumericDate`);
  return v;
}

/** Verifies signature and time claims; returns the claims of a token from a trusted issuer. */
export function verifyWebIdentityToken(token: string, issuers: TrustedIssuers, now: Date): Record<string, unknown> {
  const jwt = decodeJwt(token);
  if (jwt.header.alg !== "RS256") throw invalidToken(`Unsupported token signing algorithm '${String(jwt.header.alg)}'`);
  const iss = jwt.claims.iss;
  if (typeof iss !== "string") throw invalidToken("The ID Token has no 'iss' claim");
  const kid = typeof jwt.header.kid === "string" ? jwt.header.kid : undefined;
  const candidates = issuers.find(iss, kid);
  if (candidates.length === 0) throw invalidToken(`No trusted signing key for issuer ${iss} (kid ${kid ?? "none"})`);
  const valid = candidates.some((c) =>
    verifySignature("RSA-SHA256", Buffer.from(jwt.signingInput), c.key, jwt.signature),
  );
  if (!valid) throw invalidToken("Couldn't verify the signature of the ID Token");
  const nowSec = now.getTime() / 1000;
  const exp = numericClaim(jwt.claims, "exp");
  const nbf = numericClaim(jwt.claims, "nbf");
  const iat = numericClaim(jwt.claims, "iat");
  if (exp === undefined) throw invalidToken("The ID Token has no 'exp' claim");
  if (exp <= nowSec) {
    throw new AwsServiceError(
      "ExpiredTokenException",
      `Token expired: current date/time ${now.toISOString()} must be before the expiration date/time ${new Date(exp * 1000).toISOString()}`,
      400,
    );
  }
  if (nbf !== undefined && nbf > nowSec) throw invalidToken("The ID Token is not yet valid (nbf is in the future)");
  if (iat !== undefined && iat > nowSec + 300) throw invalidToken("The ID Token was issued in the future (iat)");
  return jwt.claims;
}

/** GitHub Actions' OIDC issuer host, as in the provider ARN and the condition keys. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * The token claims STS turns into condition keys. For every OIDC provider:
 * `aud` and `sub` ("Available keys for AWS web identity federation", IAM User
 * Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
 * For GitHub's issuer, AWS also evaluates these custom claims (2026-01, "AWS STS
 * supports validation of select identity provider specific claims",
 * https://aws.amazon.com/about-aws/whats-new/2026/01/aws-sts-supports-validation-identity-provider-claims/):
 * actor, actor_id, job_workflow_ref, repository, repository_id, workflow, ref,
 * environment, enterprise_id. Nothing else (repository_owner, run_id,
 * ref_protected, …) is a condition key, so a trust policy condition on it never
 * matches.
 */
export const GITHUB_CONDITION_CLAIMS: readonly string[] = [
  "aud",
  "sub",
  "actor",
  "actor_id",
  "job_workflow_ref",
  "repository",
  "repository_id",
  "workflow",
  "ref",
  "environment",
  "enterprise_id",
];
const OIDC_CONDITION_CLAIMS: readonly string[] = ["aud", "sub"];

export function conditionClaims(providerHost: string): ReadonlySet<string> {
  return new Set(providerHost === GITHUB_OIDC_HOST ? GITHUB_CONDITION_CLAIMS : OIDC_CONDITION_CLAIMS);
}

export interface StsDeps {
  issuers: TrustedIssuers;
}

/**
 * Mints a session for a service principal (the SSM Automation engine acting on
 * `AutomationAssumeRole`) after the role's trust policy allows the service with
 * the confused-deputy context keys SSM sets. Throws AccessDenied otherwise.
 */
export function assumeRoleAsService(
  core: SandboxCore,
  input: { roleArn: string; servicePrincipal: string; sourceAccount: string; sourceArn: string; sessionName: string },
): IssuedCredential {
  const role = core.store.roleByArn(input.roleArn);
  const denied = new AwsServiceError(
    "AccessDenied",
    `${input.servicePrincipal} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`,
    403,
  );
  if (!role) throw denied;
  const decision = evaluateTrust({
    principal: input.servicePrincipal,
    action: "sts:AssumeRole",
    roleArn: role.arn,
    roleAccountId: role.accountId,
    trustPolicy: JSON.parse(role.assumeRolePolicyDocument),
    context: {
      "aws:SourceAccount": input.sourceAccount,
      "aws:SourceArn": input.sourceArn,
      "aws:CurrentTime": `${core.clock.now().toISOString().slice(0, 19)}Z`,
      "aws:PrincipalServiceName": input.servicePrincipal,
    },
  });
  if (!decision.allowed) throw denied;
  return core.store.issueRoleSession(role, input.sessionName, 3600);
}

export function stsHandlers(deps: StsDeps): Record<string, QueryHandler> {
  return {
    async GetCallerIdentity(_params, ctx: CallContext) {
      const p = requirePrincipal(ctx);
      const userId =
        p.kind === "root" ? p.accountId : p.kind === "user" ? p.user.userId : `${p.role.roleId}:${p.sessionName}`;
      return { UserId: userId, Account: p.accountId, Arn: p.arn };
    },

    async AssumeRole(params, ctx, core) {
      const principal = requirePrincipal(ctx);
      const roleArnParam = required(params, "RoleArn");
      const sessionName = required(params, "RoleSessionName");
      checkSessionName(sessionName);
      rejectSessionPolicy(optional(params, "Policy") ?? optional(params, "PolicyArns.member.1.arn"));
      if (principal.kind === "root") {
        // "You cannot use AWS account root user credentials to call AssumeRole." (AssumeRole API reference)
        throw new AwsServiceError("AccessDenied", "Roles may not be assumed by root accounts.", 403);
      }
      const role = core.store.roleByArn(roleArnParam);
      const extraContext: Record<string, string> = { "sts:RoleSessionName": sessionName };
      const externalId = optional(params, "ExternalId");
      if (externalId !== undefined) extraContext["sts:ExternalId"] = externalId;
      const sourceIdentity = optional(params, "SourceIdentity");
      if (sourceIdentity !== undefined) extraContext["sts:SourceIdentity"] = sourceIdentity;
      // A missing role is reported as AccessDenied, like STS, so callers cannot probe for roles.
      await authorizeCall(ctx, {
        action: "sts:AssumeRole",
        resource: roleArnParam,
        resourceAccountId: role?.accountId ?? /^arn:aws:iam::(\d{12}):/.exec(roleArnParam)?.[1] ?? principal.accountId,
        extraContext,
        resourcePolicy: role ? JSON.parse(role.assumeRolePolicyDocument) : { Version: "2012-10-17", Statement: [] },
      });
      if (!role) throw new AwsServiceError("AccessDenied", `Role ${roleArnParam} does not exist`, 403);
      const duration = sessionDuration(optionalInt(params, "DurationSeconds"), role, principal.kind === "role-session");
      const cred = core.store.issueRoleSession(role, sessionName, duration);
      return { Credentials: credentialsXml(cred), AssumedRoleUser: assumedRoleUser(cred) };
    },

    async AssumeRoleWithWebIdentity(params, ctx, core) {
      const roleArnParam = required(params, "RoleArn");
      const sessionName = required(params, "RoleSessionName");
      checkSessionName(sessionName);
      rejectSessionPolicy(optional(params, "Policy") ?? optional(params, "PolicyArns.member.1.arn"));
      const token = required(params, "WebIdentityToken");
      const claims = verifyWebIdentityToken(token, deps.issuers, ctx.now);
      const iss = String(claims.iss);
      const role = core.store.roleByArn(roleArnParam);
      const denied = new AwsServiceError(
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        403,
      );
      if (!role) throw denied;
      const providerHost = iss.replace(/^https:\/\//, "").replace(/\/$/, "");
      const providerArn = `arn:aws:iam::${role.accountId}:oidc-provider/${providerHost}`;
      const provider = core.store.account(role.accountId).oidcProviders.get(providerArn);
      if (!provider) throw invalidToken(`No OpenIDConnect provider found in your account for ${iss}`);
      const audiences = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
      if (!audiences.some((a) => provider.clientIds.includes(a))) throw invalidToken("Incorrect token audience");
      // Only the claims AWS documents as condition keys become `<provider>:<claim>`
      // (see conditionClaims): a trust policy that relies on any other claim is
      // refused here as it would be in AWS, never silently honoured.
      const context: Record<string, string | string[]> = {
        "aws:FederatedProvider": providerArn,
        "aws:CurrentTime": `${ctx.now.toISOString().slice(0, 19)}Z`,
        "sts:RoleSessionName": sessionName,
      };
      const exposed = conditionClaims(providerHost);
      for (const [claim, value] of Object.entries(claims)) {
        if (!exposed.has(claim)) continue;
        if (typeof value === "string") context[`${providerHost}:${claim}`] = value;
        else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
          context[`${providerHost}:${claim}`] = value.length === 1 ? (value[0] as string) : (value as string[]);
        }
      }
      const decision = evaluateTrust({
        principal: providerArn,
        action: "sts:AssumeRoleWithWebIdentity",
        roleArn: role.arn,
        roleAccountId: role.accountId,
        trustPolicy: JSON.parse(role.assumeRolePolicyDocument),
        context,
      });
      if (!decision.allowed) throw denied;
      const duration = sessionDuration(optionalInt(params, "DurationSeconds"), role, false);
      const cred = core.store.issueRoleSession(role, sessionName, duration);
      return {
        Credentials: credentialsXml(cred),
        SubjectFromWebIdentityToken: typeof claims.sub === "string" ? claims.sub : undefined,
        AssumedRoleUser: assumedRoleUser(cred),
        Provider: iss,
        Audience: audiences[0],
      };
    },
  };
}
