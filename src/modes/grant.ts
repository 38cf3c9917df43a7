/**
 * Grant mode's public face for the other modes and the tests. The run itself
 * is in grant-run.ts, which the action loads on its own: it holds no AWS SDK
 * code, so a grant's first reads (git, GitHub, the OIDC token) are under way
 * while the SDK loads (grant-act.ts, imported when the push adds requests).
 */

export { describeAwsError } from "../adapters/aws-errors.js";
export { grantRunbookParameters } from "../domain/grant-decision.js";
export {
  grantClientToken,
  MAX_GRANT_ATTEMPTS,
  readGrantCeiling,
  startGrantExecution,
} from "./grant-act.js";
export { type GrantOutcome, type GrantReport, grantCommentBody, grantFailed, reportGrant } from "./grant-report.js";
export { runGrant } from "./grant-run.js";
