/**
 * `elevate init`: scaffolds an access repository in the current git repository, the
 * config (from the stack's outputs when given), CODEOWNERS, the three workflows with
 * the given action reference, and requests/README.md. All or nothing: an existing file
 * stops it before anything is written, unless --force.
 *
 * Outcome: ok (written) or failed (an existing file, or not in a git repository); bad input is a UserInputError.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { findRepoRoot } from "../adapters/repo.js";
import { UserInputError } from "../domain/errors.js";
import { type ActionReference, type ScaffoldInput, scaffoldFiles, scaffoldInputProblems } from "../domain/scaffold.js";
import { parseStackOutputs, type StackOutputs } from "../domain/stack-outputs.js";
import type { CommandContext, CommandOutcome } from "./command-io.js";

/** Stack outputs JSON is a few KiB; anything far larger is not describe-stacks output. */
const MAX_STACK_OUTPUTS_BYTES = 1024 * 1024;

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_STACK_OUTPUTS_BYTES)
      throw new UserInputError("--stack-outputs: standard input is larger than 1 MiB");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** describe-stacks JSON from `source`: a file relative to `context.cwd`, or `-` for standard input. */
export async function readStackOutputs(
  context: Pick<CommandContext, "cwd" | "stdin">,
  source: string,
): Promise<StackOutputs> {
  let text: string;
  const label = source === "-" ? "standard input" : source;
  if (source === "-") {
    text = await readAll(context.stdin ?? process.stdin);
  } else {
    const bytes = await readFile(join(context.cwd, source)).catch((error: NodeJS.ErrnoException) => {
      throw new UserInputError(`--stack-outputs: cannot read ${source} (${error.code ?? error.message})`);
    });
    if (bytes.length > MAX_STACK_OUTPUTS_BYTES)
      throw new UserInputError(`--stack-outputs: ${source} is larger than 1 MiB`);
    text = bytes.toString("utf8");
  }
  const parsed = parseStackOutputs(text);
  if (!parsed.ok) throw new UserInputError(`--stack-outputs: ${label} ${parsed.message}`);
  return parsed.outputs;
}

/** What `elevate init` scaffolds, its arguments already parsed. */
export interface InitOptions {
  input: Omit<ScaffoldInput, "stack">;
  action: ActionReference;
  /** describe-stacks JSON of the deployed stack: a file relative to cwd, or `-` for standard input. */
  stackOutputs?: string | undefined;
  /** Overwrite files that already exist. */
  force?: boolean;
}

/** Runs `elevate init`: `ok` written, `failed` not in a git repository or files exist (nothing written). */
export async function runInit(context: CommandContext, options: InitOptions): Promise<CommandOutcome> {
  const { input, action, stackOutputs: source } = options;
  const scaffold: ScaffoldInput =
    source === undefined ? input : { ...input, stack: await readStackOutputs(context, source) };
  const problems = scaffoldInputProblems(scaffold);
  if (problems.length > 0) throw new UserInputError(problems.join("; "));

  const { root, inGit } = await findRepoRoot(context.cwd);
  if (!inGit) {
    context.stderr.write("elevate init: not inside a git repository; run 'git init' (or clone the repository) first\n");
    return "failed";
  }
  const files = scaffoldFiles(scaffold);
  const existing = files.filter((file) => existsSync(join(root, file.path)));
  if (existing.length > 0 && options.force !== true) {
    for (const file of existing) context.stderr.write(`${file.path}:1:1: error: already exists\n`);
    context.stderr.write("elevate init: nothing was written; move those files away or run again with --force\n");
    return "failed";
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
      "  3. Mark each user eligible in AWS: an IAM user tagged elevate:eligible=true under EligibleUserPath, an",
      "     Identity Center user in the group IdentityCenterEligibleGroupId (docs/adoption.md, step 1).",
      "  4. Run 'elevate doctor' (offline), then 'elevate doctor --github' and 'elevate doctor --aws --stack-outputs FILE'.",
      "",
    ].join("\n"),
  );
  return "ok";
}
