/** `elevate status`: its options and help; the work is src/modes/status.ts. */
import { runStatus } from "../../modes/status.js";
import { type CliCommand, choiceOption, exitCode, type ParsedArgs, stringOption, UsageError } from "../args.js";

/** `--region`: an AWS region name such as eu-west-1 or us-gov-west-1. */
function regionOption(args: ParsedArgs): string | undefined {
  const region = stringOption(args, "region");
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    throw new UsageError(`--region ${JSON.stringify(region)} is not an AWS region name (e.g. eu-west-1)`);
  }
  return region;
}

/** The `status` entry of the CLI command table (src/cli/main.ts). */
export const statusCommand: CliCommand = {
  summary: "List the live grants (IAM, Identity Center), matched to their requests; report drift.",
  usage: "[--config F] [--profile NAME] [--region R] [--format text|json] [--ref REF]",
  description: [
    "Reads every elevate-* grant policy from IAM with read-only credentials from the default AWS",
    "credential chain (region: the config's aws.region), shows each window and the time remaining,",
    "and matches it to its request file merged in git (history of REF, default HEAD); a break-glass",
    "grant to its Elevate-Grant execution in SSM (ssm:DescribeAutomationExecutions, GetAutomationExecution).",
    "Evidence notes are never taken as proof of a grant.",
    "With permission-set roles in the config, it also lists the Identity Center account assignments of the",
    "catalogued permission sets (sso:ListAccountAssignments, identitystore:DescribeUser): run it with",
    "credentials of the hub, the account that administers Identity Center.",
    "--profile picks a named profile of ~/.aws/config or ~/.aws/credentials, like aws --profile.",
    'With --format json a failure prints {"error": {"kind", "message"}} on stdout (kind: config, profile,',
    "credentials, access-denied, network, aws, git) besides the message on stderr.",
    "Drift is what the revoke workflow would report or revoke: a grant no merged request (or break-glass",
    "execution) accounts for, a window beyond its request, a policy not of Elevate's exact shape.",
    "Exit status: 0 no drift, 1 drift found, 2 usage, config or credential error.",
  ].join("\n"),
  options: {
    config: {
      type: "string",
      valueName: "F",
      description:
        "config file, relative to the current directory (default: .github/elevate.yml at the repository root)",
    },
    profile: {
      type: "string",
      valueName: "NAME",
      description: "AWS profile from the shared config/credentials files (default: the default credential chain)",
    },
    region: {
      type: "string",
      valueName: "R",
      description: "AWS region for IAM calls (default: the config's aws.region)",
    },
    format: { type: "string", valueName: "text|json", description: "output format (default: text)" },
    ref: {
      type: "string",
      valueName: "REF",
      description: "git revision whose history holds the requests (default: HEAD)",
    },
  },
  positionals: { min: 0, max: 0 },
  async run(context, args) {
    const outcome = await runStatus(
      {
        cwd: context.cwd,
        config: stringOption(args, "config"),
        format: choiceOption(args, "format", ["text", "json"] as const) ?? "text",
        ref: stringOption(args, "ref") ?? "HEAD",
        now: context.now(),
        profile: stringOption(args, "profile"),
        region: regionOption(args),
      },
      { stdout: (t) => context.stdout.write(t), stderr: (t) => context.stderr.write(t) },
    );
    return exitCode(outcome);
  },
};
