/**
 * Runs a program (git, gh) with an argv array, never through a shell, and never
 * throws: user text (a reason, a ticket) passed as an argument cannot run anything.
 */
import { execFile } from "node:child_process";

export interface ProcessResult {
  ok: boolean;
  /** The program is not installed (ENOENT). */
  missing: boolean;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argv array (no shell) and never throws. */
export function runProgram(
  program: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ProcessResult> {
  return new Promise((resolvePromise) => {
    execFile(
      program,
      [...args],
      {
        cwd: options.cwd,
        env: { ...options.env, GIT_TERMINAL_PROMPT: "0", GH_PROMPT_DISABLED: "1" },
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        resolvePromise({ ok: !error, missing: code === "ENOENT", stdout, stderr: stderr || (error?.message ?? "") });
      },
    );
  });
}
