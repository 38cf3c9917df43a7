/** Commands and links we print for a user to run or open (never run ourselves). */

/** POSIX shell single-quoting, for commands we print (never run) for the user to copy. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** An argv as one line a user can paste into a POSIX shell. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** `https://github.com/OWNER/REPO` for a GitHub remote URL (https, ssh or scp-like), else undefined. */
export function githubWebUrl(remoteUrl: string): string | undefined {
  const url = remoteUrl.trim();
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  const full = /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([\w.-]+)(?::\d+)?\/([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  const match = full ?? scp;
  if (!match) return undefined;
  const [, host, owner, repo] = match;
  return `https://${host}/${owner}/${repo}`;
}
