/**
 * Argument handling shared by every CLI command: a command is a table entry
 * (`CliCommand`) with its options, and these helpers parse argv for it with
 * `node:util` `parseArgs` (strict: unknown options are usage errors) and print
 * its help.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UserInputError } from "../domain/errors.js";
import { parseTimestamp } from "../domain/request.js";
import { closestName } from "../domain/suggest.js";
import type { CommandContext, CommandOutcome, Output } from "../modes/command-io.js";

export type { Output };

export const PROGRAM = "elevate";

/** README.md "CLI": 0 success / all valid, 1 invalid, 2 usage or config error. */
export const EXIT = Object.freeze({ OK: 0, INVALID: 1, USAGE: 2 });

/** The exit status for how a mode ended. */
export function exitCode(outcome: CommandOutcome): number {
  switch (outcome) {
    case "ok":
      return EXIT.OK;
    case "problems":
      return EXIT.INVALID;
    case "failed":
      return EXIT.USAGE;
  }
}

/**
 * A command-line mistake: printed with a hint to `--help`, exit 2. Modes raise
 * the neutral `UserInputError` for bad values; the CLI treats both alike.
 */
export class UsageError extends UserInputError {
  override name = "UsageError";
}

/** Everything a command may touch, injected so tests run commands in-process. */
export type CliContext = CommandContext;

type ParseArgsOption = NonNullable<ParseArgsConfig["options"]>[string];

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder in help, e.g. `ISO`. */
  valueName?: string;
  description: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface CliCommand {
  /** One line for `elevate --help`. */
  summary: string;
  /** Arguments after the command name, e.g. `[--config F] FILE…`. */
  usage: string;
  /** Paragraphs shown by `elevate <command> --help`. */
  description: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments, and what one is called in messages (default `FILE`). */
  positionals: { min: number; max: number; name?: string };
  run(context: CliContext, args: ParsedArgs): Promise<number>;
}

/** `--name` as typed for an option, `-x` for a short one. */
function optionLabel(token: { rawName: string }): string {
  return token.rawName;
}

/**
 * The message for an option the command does not have, with the closest
 * known option when the typed one looks like a typo of it.
 */
export function unknownOptionMessage(typed: string, command: Pick<CliCommand, "options">): string {
  const names = [...Object.keys(command.options), "help"];
  const bare = typed.replace(/^-+/, "");
  const guess = typed.startsWith("--") ? closestName(bare, names) : undefined;
  return `unknown option ${typed}${guess ? `; did you mean --${guess}?` : ""}`;
}

/**
 * Parses argv for `command`. `--help`/`-h` is added to every command, and a
 * lone `help` argument asks for help too (`elevate plan help`).
 * Returns `"help"` when help was asked for; throws `UsageError` on bad input,
 * with messages in our words (node:util's are about its own API).
 *
 * Option values are taken as given, dashes included, so `--duration -1h`
 * reaches the duration rule and gets its message; only a known option name in
 * a value's place (`--reason --ticket X`) is refused as a missing value.
 */
export function parseCommandArgs(command: CliCommand, argv: readonly string[]): ParsedArgs | "help" {
  const options: Record<string, ParseArgsOption> = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  if (argv.length === 1 && argv[0] === "help") return "help";
  const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const longNames = new Set(Object.keys(options).map((name) => `--${name}`));
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw new UsageError(unknownOptionMessage(optionLabel(token), command));
    if (token.name === "help") return "help";
    const label = `--${token.name}`;
    if (spec.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`${label} takes no value (got ${JSON.stringify(token.value)})`);
      if (values[token.name] !== undefined) throw new UsageError(`${label} may be given only once`);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined) throw new UsageError(`${label} needs a value`);
    if (!token.inlineValue && longNames.has(value.split("=")[0] as string)) {
      throw new UsageError(`${label} needs a value (${value} is an option; write ${label}=${value} if you mean it)`);
    }
    if (values[token.name] !== undefined) throw new UsageError(`${label} may be given only once`);
    values[token.name] = value;
  }
  const count = positionals.length;
  const { min, max, name = "FILE" } = command.positionals;
  if (count < min) throw new UsageError(min === 1 ? `missing ${name} argument` : `expected at least ${min} arguments`);
  if (count > max) {
    if (max === 0) throw new UsageError(`takes no arguments, got ${JSON.stringify(positionals[0])}`);
    throw new UsageError(
      max === 1
        ? `expected one ${name}, got ${count}: ${positionals.map((p) => JSON.stringify(p)).join(" ")}`
        : `expected at most ${max} arguments, got ${count}`,
    );
  }
  return { values, positionals };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new UsageError(`--${name} needs a value`);
  if (value === "") throw new UsageError(`--${name} needs a non-empty value`);
  return value;
}

/** An RFC 3339 instant with a zone (same grammar as a request's `start`). */
export function timeOption(args: ParsedArgs, name: string): Date | undefined {
  const value = stringOption(args, name);
  if (value === undefined) return undefined;
  const parsed = parseTimestamp(value);
  if (!parsed.ok) throw new UsageError(`--${name}: ${parsed.message}`);
  return parsed.date;
}

export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const value = stringOption(args, name);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function commandHelp(program: string, name: string, command: CliCommand): string {
  const lines = [`Usage: ${program} ${name} ${command.usage}`, "", command.summary, ""];
  if (command.description) lines.push(command.description, "");
  lines.push("Options:");
  const rows: [string, string][] = Object.entries(command.options).map(([option, spec]) => [
    `${spec.short ? `-${spec.short}, ` : ""}--${option}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`,
    spec.description,
  ]);
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}  ${right}`);
  return `${lines.join("\n")}\n`;
}

/** `--config F` as validate and plan take it. */
export const configOption = {
  type: "string",
  valueName: "F",
  description: "config file, relative to the current directory (default: .github/elevate.yml at the repository root)",
} as const;
