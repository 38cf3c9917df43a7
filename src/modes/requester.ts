/** Who is asking: the GitHub login `elevate request` writes as the requester. */
import { runProgram } from "../adapters/program.js";
import { GITHUB_LOGIN } from "../domain/config.js";

/** How to tell Elevate who you are, printed when no login can be found. */
export const NO_LOGIN_MESSAGE =
  "no GitHub login found: pass --requester YOUR_LOGIN, sign in with `gh auth login`, or run `git config --global github.user YOUR_LOGIN`";

export type RequesterSource = "--requester" | "gh" | "git config github.user";

/**
 * The requester's GitHub login: `--requester`, else the account `gh` is signed
 * in to (`gh api user`, https://cli.github.com/manual/gh_api), else
 * `git config github.user` (the convention hub and other tools use).
 */
export async function resolveRequester(input: {
  flag: string | undefined;
  cwd: string;
  env: NodeJS.ProcessEnv;
}): Promise<{ login: string; source: RequesterSource } | undefined> {
  if (input.flag !== undefined) return { login: input.flag, source: "--requester" };
  const gh = await runProgram("gh", ["api", "user", "--jq", ".login"], {
    cwd: input.cwd,
    env: input.env,
    timeoutMs: 20_000,
  });
  const ghLogin = gh.stdout.trim();
  if (gh.ok && GITHUB_LOGIN.test(ghLogin)) return { login: ghLogin, source: "gh" };
  const configured = await runProgram("git", ["config", "--get", "github.user"], { cwd: input.cwd, env: input.env });
  const gitLogin = configured.stdout.trim();
  if (configured.ok && GITHUB_LOGIN.test(gitLogin)) return { login: gitLogin, source: "git config github.user" };
  return undefined;
}
