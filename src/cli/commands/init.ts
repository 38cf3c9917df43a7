/** `elevate init`: its options and help; the work is src/modes/init.ts. */
import {
  type ActionReference,
  parseActionReference,
  parseRepositorySlug,
  type ScaffoldInput,
} from "../../domain/scaffold.js";
import { runInit } from "../../modes/init.js";
import { type CliCommand, exitCode, type ParsedArgs, stringOption, UsageError } from "../args.js";

function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required (e.g. --${flag} ${example})`);
  return value;
}

function parseArguments(args: ParsedArgs): {
  input: Omit<ScaffoldInput, "stack">;
  action: ActionReference;
} {
  const repo = parseRepositorySlug(required(stringOption(args, "repo"), "repo", "acme/aws-access"));
  if (!repo.ok) throw new UsageError(`--repo ${repo.message}`);
  const action = parseActionReference(
    required(stringOption(args, "action"), "action", "acme/elevate/action@<commit SHA>"),
  );
  if (!action.ok) throw new UsageError(`--action ${action.message}`);
  const input = {
    repository: repo.value,
    accountId: required(stringOption(args, "account"), "account", "123456789012"),
    region: required(stringOption(args, "region"), "region", "eu-west-1"),
    action: action.value,
  };
  return { input, action: action.value };
}

export const initCommand: CliCommand = {
  summary: "Scaffold an access repository: config, CODEOWNERS, workflows, requests/README.md.",
  usage:
    "--repo OWNER/NAME --account ID --region REGION --action OWNER/REPO/action@REF [--stack-outputs FILE|-] [--force]",
  description: [
    "Writes, at the root of the current git repository: .github/elevate.yml, .github/CODEOWNERS,",
    ".github/workflows/elevate-check.yml, elevate-grant.yml and elevate-revoke.yml (running the action",
    "given by --action), and requests/README.md for requesters. With --stack-outputs, the config's aws:",
    "block comes from the deployed stack (the JSON of `aws cloudformation describe-stacks --stack-name",
    "NAME --output json`, or - for standard input); without it, from the names the template gives its",
    "resources. Pin --action to a full commit SHA: a tag or branch can be moved under you.",
    "Nothing is overwritten without --force: if any file exists, nothing is written at all.",
    "Then add users and roles to the config, owners to CODEOWNERS, and run 'elevate doctor'.",
    "Exit status: 0 written, 2 usage error or existing files.",
  ].join("\n"),
  options: {
    repo: { type: "string", valueName: "OWNER/NAME", description: "the GitHub repository that will hold the requests" },
    account: { type: "string", valueName: "ID", description: "the 12-digit AWS account id that holds the IAM users" },
    region: { type: "string", valueName: "REGION", description: "the AWS region of the Elevate stack" },
    action: {
      type: "string",
      valueName: "OWNER/REPO/action@REF",
      description: "the Elevate action the workflows run, pinned to a commit SHA",
    },
    "stack-outputs": {
      type: "string",
      valueName: "FILE|-",
      description: "describe-stacks JSON of the deployed Elevate stack (- reads standard input)",
    },
    force: { type: "boolean", description: "overwrite files that already exist" },
  },
  positionals: { min: 0, max: 0 },
  async run(context, args) {
    const { input, action } = parseArguments(args);
    const outcome = await runInit(context, {
      input,
      action,
      stackOutputs: stringOption(args, "stack-outputs"),
      force: args.values.force === true,
    });
    return exitCode(outcome);
  },
};
