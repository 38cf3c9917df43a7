/**
 * What a command-line mode touches and how it ends, without knowing it runs
 * under the CLI: src/cli/ parses argv into each mode's typed options, hands it
 * one of these, and maps the outcome to an exit status (README.md "CLI").
 * Tests build them directly to run modes in-process.
 */

export interface Output {
  write(chunk: string): unknown;
}

/** Streams, working directory and clock of one command run. */
export interface CommandContext {
  cwd: string;
  stdout: Output;
  stderr: Output;
  /** The clock; commands read time only through this. */
  now: () => Date;
  /** Standard input, for `-` arguments; process.stdin when absent. */
  stdin?: AsyncIterable<string | Uint8Array>;
}

/** The same as `CommandContext`, as plain functions, plus the environment for subprocesses. */
export interface CommandIo {
  /** Directory the command was started in; FILE arguments are relative to it. */
  cwd: string;
  /** Environment for subprocesses (PATH decides whether `gh` is found). */
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now: () => Date;
  /** Source of randomness for request ids; default `Math.random`. */
  random?: () => number;
}

/**
 * How a command ended: `ok` did what was asked and found nothing wrong;
 * `problems` ran and found something invalid (an invalid request, drift,
 * doctor errors, a failed demo step); `failed` could not do its work (a
 * missing or invalid config, not in a git repository, no credentials, an
 * existing file). The CLI exits 0, 1 and 2 for them.
 */
export type CommandOutcome = "ok" | "problems" | "failed";
