/** Adapts the CLI context to the function-style `CommandIo` some modes take. */
import type { CommandIo } from "../modes/command-io.js";
import type { CliContext } from "./args.js";

/** Subprocesses get this process's environment. */
export function cliIo(context: CliContext): CommandIo {
  return {
    cwd: context.cwd,
    env: process.env,
    stdout: (text) => context.stdout.write(text),
    stderr: (text) => context.stderr.write(text),
    now: context.now,
  };
}
