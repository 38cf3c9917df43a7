/** `elevate doctor`: its options and help; the work is src/modes/doctor.ts. */
import { runDoctor } from "../../modes/doctor.js";
import { type CliCommand, exitCode, stringOption } from "../args.js";

export const doctorCommand: CliCommand = {
  summary: "Check the config, CODEOWNERS, workflows and request files before the first real pull request.",
  usage: "[--config F] [--github] [--aws] [--smoke] [--stack-outputs FILE|-] [--repo OWNER/NAME]",
  description: [
    "Offline, from the working tree at the repository root: the config (schema and cross-field rules,",
    "an IAM path on every role in another account than the hub, which its cut-off needs);",
    "CODEOWNERS (syntax, every role folder owned, the config and workflows owned, owners that are not",
    "only the role's requesters); the workflows elevate-check.yml, elevate-grant.yml and",
    "elevate-revoke.yml (triggers, permissions, an OIDC token only for grant and revoke, the action",
    "reference, no paths: filter on the required check); and the request files under requests/.",
    "--github (a token in GITHUB_TOKEN or GH_TOKEN; ELEVATE_MEMBERS_TOKEN for team membership) also checks",
    "the rules on main (a pull request, code-owner review, dismissed stale approvals, approval of the",
    "most recent push, the check required, no bypass), that every team owner resolves with the members",
    "token, and that the OIDC subject is not customized; it prints the subject the AWS roles must trust.",
    "--aws (AWS credentials of the hub that may read IAM and SSM) also checks, in the config's region: that",
    "the credentials are of aws.accountId, each runbook's default version is its latest, the GitHub OIDC",
    "provider exists for sts.amazonaws.com, the grant and revoke roles trust this repository, every",
    "configured IAM user is eligible (EligibleUserPath, tag elevate:eligible=true), and every",
    "identityCenterUser is in the identity store (identitystore:GetUserId).",
    "With --stack-outputs (describe-stacks JSON, - for standard input) it also checks that each",
    "identityCenterUser is in the stack's IdentityCenterEligibleGroupId (identitystore:IsMemberInGroups),",
    "and compares the stack's outputs with the config, its GrantableRoles and GrantablePermissionSets with the",
    "role catalog, its PrivilegedRoleArns with the hub's roles, and that it created the multi-account",
    "administration role when a role is in another account.",
    "--smoke (AWS credentials that may run the Elevate runbooks; needs --stack-outputs of a stack deployed with",
    "CreateSmokeTestCanary=true) grants the canary role to the canary user for 15m through Elevate-Grant, assumes",
    "it as that user with a temporary access key, revokes through Elevate-Revoke and checks a new assume is",
    "denied; it deletes the access key, the grant policy and the expiry schedule whatever happened, and prints",
    "each step (pass/fail/skipped) on standard error; each failed step is an error finding.",
    "Findings print as FILE:LINE:COL: error: MESSAGE (or warning:, which does not fail).",
    "Exit status: 0 no errors, 1 errors found, 2 usage error.",
  ].join("\n"),
  options: {
    config: {
      type: "string",
      valueName: "F",
      description: "config file, relative to the repository root (default: .github/elevate.yml)",
    },
    github: { type: "boolean", description: "also check branch rules, team owners and the OIDC subject on GitHub" },
    aws: { type: "boolean", description: "also check the stack, runbooks, role trusts and IAM users in AWS" },
    smoke: {
      type: "boolean",
      description: "also run one live grant → assume → revoke round trip on the stack's canary (needs --stack-outputs)",
    },
    "stack-outputs": {
      type: "string",
      valueName: "FILE|-",
      description: "with --aws or --smoke: describe-stacks JSON of the Elevate stack (- reads standard input)",
    },
    repo: {
      type: "string",
      valueName: "OWNER/NAME",
      description: "the repository for --github and --aws (default: from the origin remote)",
    },
  },
  positionals: { min: 0, max: 0 },
  async run(context, args) {
    const outcome = await runDoctor(context, {
      config: stringOption(args, "config"),
      github: args.values.github === true,
      aws: args.values.aws === true,
      smoke: args.values.smoke === true,
      stackOutputs: stringOption(args, "stack-outputs"),
      repo: stringOption(args, "repo"),
    });
    return exitCode(outcome);
  },
};
