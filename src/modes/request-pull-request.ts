/**
 * `elevate request --open-pr`: what must hold before anything is written, and
 * the commit, push and `gh pr create` after (or the commands to do it by hand).
 */
import { runProgram } from "../adapters/program.js";
import type { RequestedAccess } from "../domain/requested-access.js";
import { commandLine, githubWebUrl } from "../domain/shell-text.js";
import type { CommandIo, CommandOutcome } from "./command-io.js";

/** A request PR adds only its file, so --open-pr starts from a clean tree. */
export const DIRTY_TREE_MESSAGE =
  "--open-pr needs a clean working tree (git status --porcelain is not empty); commit or stash your changes first, or run without --open-pr";

/** Why `--open-pr` cannot work here (checked before anything is touched), or undefined when it can. */
export async function openPrObstacle(proc: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string | undefined> {
  // `git var` applies the same strict rule as `git commit`, env (GIT_AUTHOR_*, EMAIL) and config alike.
  for (const ident of ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"]) {
    const who = await runProgram("git", ["var", ident], proc);
    if (!who.ok) {
      return '--open-pr commits, and git does not know who you are; run `git config --global user.name "Your Name"` and `git config --global user.email you@example.com`, or run without --open-pr';
    }
  }
  const status = await runProgram("git", ["status", "--porcelain"], proc);
  if (!status.ok) return `git status failed: ${status.stderr.trim()}`;
  if (status.stdout.trim() !== "") return DIRTY_TREE_MESSAGE;
  const remote = await runProgram("git", ["remote", "get-url", "origin"], proc);
  if (!remote.ok)
    return "--open-pr pushes to the remote origin, and this clone has none; add it (git remote add origin URL) or run without --open-pr";
  return undefined;
}

export function pullRequestBody(input: {
  repoPath: string;
  fields: { role: string; duration: string; reason: string; ticket?: string; access: RequestedAccess };
  start: string | undefined;
}): string {
  const { fields } = input;
  const { access } = fields;
  const who =
    access.kind === "role"
      ? `as IAM user \`${access.iamUser}\``
      : `as Identity Center user \`${access.identityCenterUser}\` (permission set \`${access.permissionSetArn}\` in account ${access.accountId})`;
  return [
    `Temporary access to role \`${fields.role}\` for ${fields.duration} ${who}.`,
    "",
    `- Request: \`${input.repoPath}\``,
    `- Reason: ${fields.reason}`,
    `- Ticket: ${fields.ticket ?? "none"}`,
    `- Start: ${input.start ?? "at merge"}`,
    "",
    "Created with `npx elevate request`. The role's code owners approve; the grant runs when this is merged.",
  ].join("\n");
}

export async function openPullRequest(input: {
  io: CommandIo;
  proc: { cwd: string; env: NodeJS.ProcessEnv };
  repoPath: string;
  branch: string;
  title: string;
  body: string;
  reason: string;
}): Promise<CommandOutcome> {
  const { io, proc, repoPath, branch, title, body } = input;
  const add = await runProgram("git", ["add", "--", repoPath], proc);
  const commit = add.ok
    ? await runProgram("git", ["commit", "-q", "-m", title, "-m", `Reason: ${input.reason}`, "--", repoPath], proc)
    : add;
  if (!commit.ok) {
    io.stderr(
      `elevate request: could not commit ${repoPath} on ${branch}: ${commit.stderr.trim()}\nThe file is written and you are on branch ${branch}; commit it yourself, then push and open the PR.\n`,
    );
    return "failed";
  }
  io.stdout(`committed ${repoPath} on new branch ${branch} (git switch - returns to your previous branch)\n`);

  const push = ["git", "push", "-u", "origin", branch];
  const prCreate = ["gh", "pr", "create", "--head", branch, "--title", title, "--body", body];
  const gh = await runProgram("gh", ["--version"], proc);
  if (gh.missing || !gh.ok) {
    const remote = await runProgram("git", ["remote", "get-url", "origin"], proc);
    const web = remote.ok ? githubWebUrl(remote.stdout) : undefined;
    io.stdout(
      [
        "gh (GitHub CLI) is not installed; push the branch and open the pull request yourself:",
        `  ${commandLine(push)}`,
        web
          ? `  then open ${web}/compare/${encodeURIComponent(branch).replace(/%2F/g, "/")}?expand=1`
          : `  ${commandLine(prCreate)}`,
        "",
      ].join("\n"),
    );
    return "ok";
  }
  const pushed = await runProgram(push[0] as string, push.slice(1), { ...proc, timeoutMs: 120_000 });
  if (!pushed.ok) {
    io.stderr(
      `elevate request: ${commandLine(push)} failed: ${pushed.stderr.trim()}\nThe request is committed on ${branch}; once the push works, run:\n  ${commandLine(push)}\n  ${commandLine(prCreate)}\n`,
    );
    return "failed";
  }
  const pr = await runProgram(prCreate[0] as string, prCreate.slice(1), { ...proc, timeoutMs: 120_000 });
  if (!pr.ok) {
    io.stderr(
      `elevate request: ${commandLine(prCreate.slice(0, 3))} failed: ${pr.stderr.trim()}\nThe branch ${branch} is pushed; open the pull request with:\n  ${commandLine(prCreate)}\n`,
    );
    return "failed";
  }
  io.stdout(`opened ${pr.stdout.trim()}\n`);
  return "ok";
}
