/**
 * Local AWS stand-in (IAM, STS, SSM Automation, SNS, EventBridge Scheduler, IAM Identity Center) for tests, benchmarks and
 * `elevate demo`. Never imported by product code under src/.
 */

export type { AutomationExecutionRecord, AutomationStatus, StepExecutionRecord } from "./automation-engine.js";
export type { SandboxClock } from "./clock.js";
export type {
  AccountAssignment,
  AssignmentOperation,
  IdentityCenter,
  IdentityCenterKnobs,
  IdentityStoreUser,
  PermissionSet,
  PortalSignIn,
} from "./identity-center.js";
export type { SandboxKnobs } from "./knobs.js";
export type { ScheduleGroupRecord, ScheduleInvocation, ScheduleRecord } from "./scheduler.js";
export {
  type AwsSandbox,
  type AwsSandboxOptions,
  type AwsSandboxState,
  type CallLogEntry,
  type Credentials,
  startAwsSandbox,
} from "./server.js";
export type { PublishedMessage } from "./sns.js";
export type { TrustedIssuer } from "./sts.js";
