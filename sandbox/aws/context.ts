/**
 * What a service handler sees of the sandbox: state, clock, the caller, and an
 * `authorize` that raises the service's own access-denied error.
 */
import { type AuthorizeInput, authorize } from "./authz.js";
import type { SandboxClock } from "./clock.js";
import { AwsServiceError } from "./errors.js";
import type { IamStore, Principal } from "./iam-store.js";

/** SigV4 signing names: sso-admin signs as `sso`. */
export type ServiceName = "iam" | "sts" | "sns" | "ssm" | "scheduler" | "sso" | "identitystore";

export interface CallContext {
  service: ServiceName;
  action: string;
  /** Undefined only for the unsigned STS web identity call. */
  principal: Principal | undefined;
  region: string;
  requestId: string;
  now: Date;
}

export interface SandboxCore {
  store: IamStore;
  clock: SandboxClock;
  region: string;
  /** The sandbox's own endpoint, for the automation engine's SDK clients. */
  endpoint(): string;
}

/** Each service's access-denied error shape. */
function accessDenied(service: ServiceName, message: string): AwsServiceError {
  switch (service) {
    case "ssm":
      return new AwsServiceError("AccessDeniedException", message, 400);
    case "scheduler":
    case "sso":
    case "identitystore":
      return new AwsServiceError("AccessDeniedException", message, 403);
    case "sns":
      return new AwsServiceError("AuthorizationError", message, 403);
    default:
      return new AwsServiceError("AccessDenied", message, 403);
  }
}

export function requirePrincipal(ctx: CallContext): Principal {
  if (!ctx.principal)
    throw new AwsServiceError("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
  return ctx.principal;
}

/**
 * Authorizes the signer of `ctx` for `action` on `resource`, throwing the
 * service's access-denied error with AWS's message wording ("User: ARN is not
 * authorized to perform: ACTION on resource: RESOURCE …").
 */
export async function authorizeCall(
  ctx: CallContext,
  input: Omit<AuthorizeInput, "principal" | "now" | "region"> & { region?: string },
): Promise<void> {
  const principal = requirePrincipal(ctx);
  const decision = await authorize({ ...input, principal, now: ctx.now, region: input.region ?? ctx.region });
  if (!decision.allowed) {
    throw accessDenied(
      ctx.service,
      `User: ${principal.arn} is not authorized to perform: ${input.action} on resource: ${input.resource} ${decision.reason}`,
    );
  }
}
