/**
 * `elevate init`: scaffolds an access repository in the current git repository, the
 * config (from the stack's outputs when given), CODEOWNERS, the three workflows with
 * the given action reference, and requests/README.md. All or nothing: an existing file
 * stops it before anything is written, unless --force.
 *
 * Exit status: 0 written, 2 usage error, an existing file, or not in a git repository.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { findRepoRoot } from "../adapters/repo.js";
import { type CliCommand, type CliContext, EXIT, type ParsedArgs, stringOption, UsageError } from "../cli/args.js";
import {
  type ActionReference,
  parseActionReference,
  parseRepositorySlug,
  type ScaffoldInput,
  scaffoldFiles,
  scaffoldInputProblems,
} from "../domain/scaffold.js";
import { parseStackOutputs, type StackOutputs } from "../domain/stack-outputs.js";

/** Stack outputs JSON is a few KiB; anything far larger is not describe-stacks output. */
const MAX_STACK_OUTPUTS_BYTES = 1024 * 1024;

function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined) throw new UsageError(`--${flag} is required (e.g. --${flag} ${example})`);
  return value;
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_STACK_OUTPUTS_BYTES) throw new UsageError("--stack-outputs: standard input is larger than 1 MiB");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readStackOutputs(context: CliContext, source: string): Promise<StackOutputs> {
  let text: string;
  const label = source === "-" ? "standard input" : source;
  if (source === "-") {
    text = await readAll(context.stdin ?? process.stdin);
  } else {
    const bytes = await readFile(join(context.cwd, source)).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--stack-outputs: cannot read ${source} (${error.code ?? error.message})`);
    });
    if (bytes.length > MAX_STACK_OUTPUTS_BYTES) throw new UsageError(`--stack-outputs: ${source} is larger than 1 MiB`);
    text = bytes.toString("utf8");
  }
  const parsed = parseStackOutputs(text);
  if (!parsed.ok) throw new UsageError(`--stack-outputs: ${label} ${parsed.message}`);
  return parsed.outputs;
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
    const source = stringOption(args, "stack-outputs");
    const scaffold: ScaffoldInput =
      source === undefined ? input : { ...input, stack: await readStackOutputs(context, source) };
    const problems = scaffoldInputProblems(scaffold);
    if (problems.length > 0) throw new UsageError(problems.join("; "));

    const { root, inGit } = await findRepoRoot(context.cwd);
    if (!inGit) {
      context.stderr.write(
        "elevate init: not inside a git repository; run 'git init' (or clone the repository) first\n",
      );
      return EXIT.USAGE;
    }
    const files = scaffoldFiles(scaffold);
    const existing = files.filter((file) => existsSync(join(root, file.path)));
    if (existing.length > 0 && args.values.force !== true) {
      for (const file of existing) context.stderr.write(`${file.path}:1:1: error: already exists\n`);
      context.stderr.write("elevate init: nothing was written; move those files away or run again with --force\n");
      return EXIT.USAGE;
    }
    for (const file of files) {
      await mkdir(dirname(join(root, file.path)), { recursive: true });
      await writeFile(join(root, file.path), file.text);
      const verb = existing.includes(file) ? "overwrote" : "wrote";
      context.stdout.write(`${verb} ${file.path}\n`);
    }
    if (!action.pinned) {
      context.stderr.write(
        `elevate init: warning: --action ${action.ref} is not a commit SHA; pin the workflows to the commit it points at\n`,
      );
    }
    context.stdout.write(
      [
        "",
        "Next:",
        "  1. Add users and roles to .github/elevate.yml, and one CODEOWNERS line per role.",
        `  2. Replace @${input.repository.owner}/platform in .github/CODEOWNERS with your platform team.`,
        "  3. Run 'elevate doctor' (offline), then 'elevate doctor --github' and 'elevate doctor --aws --stack-outputs FILE'.",
        "",
      ].join("\n"),
    );
    return EXIT.OK;
  },
};
