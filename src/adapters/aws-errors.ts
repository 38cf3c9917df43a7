/**
 * One line for a failed AWS call, for logs and annotations: the error's name and
 * message, with what to do for the failures a person can act on. Shared by every
 * mode that calls AWS; a module of its own so that importing it loads nothing else.
 */
export function describeAwsError(error: unknown): string {
  const e = error as { name?: string; message?: string; Code?: string };
  const name = e?.name ?? e?.Code ?? "Error";
  const message = e?.message ?? String(error);
  switch (name) {
    case "IdempotentParameterMismatch":
      return `${name}: an execution for this request and merge was already started with different parameters; investigate before re-running (${message})`;
    case "AutomationExecutionLimitExceededException":
      return `${name}: too many automations are running in the account; re-run the workflow later (${message})`;
    case "AccessDeniedException":
    case "AccessDenied":
      return `${name}: the grant role may not start the runbook; check the stack's GrantRole policy and the config's grantDocument (${message})`;
    default:
      return `${name}: ${message}`;
  }
}
