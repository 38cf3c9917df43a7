/**
 * Argument handling shared by every CLI command: a command is a table entry
 * (`CliCommand`) with its options, and these helpers parse argv for it with
 * `node:util` `parseArgs` (strict: unknown options are usage errors) and print
 * its help.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { parseTimestamp } from "../domain/request.js";

/** DESIGN.md "CLI": 0 success / all valid, 1 invalid, 2 usage or config error. */
export const EXIT = Object.freeze({ OK: 0, INVALID: 1, USAGE: 2 });

/** A command-line mistake: printed with a hint to `--help`, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface Output {
  write(chunk: string): unknown;
}

/** Everything a command may touch, injected so tests run commands in-process. */
export interface CliContext {
  cwd: string;
  stdout: Output;
  stderr: Output;
  /** The clock; commands read time only through this. */
  now: () => Date;
}

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
  positionals: { min: number; max: number };
  run(context: CliContext, args: ParsedArgs): Promise<number>;
}

/**
 * Parses argv for `command`. `--help`/`-h` is added to every command.
 * Returns `"help"` when help was asked for; throws `UsageError` on bad input.
 */
export function parseCommandArgs(command: CliCommand, argv: readonly string[]): ParsedArgs | "help" {
  const options: Record<string, ParseArgsOption> = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\.?\s*To specify a positional argument.*$/s, ""));
  }
  if (parsed.values.help === true) return "help";
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) throw new UsageError(`--${name} may be given only once`);
    values[name] = value;
  }
  const count = parsed.positionals.length;
  const { min, max } = command.positionals;
  if (count < min) throw new UsageError(min === 1 ? "missing FILE argument" : `expected at least ${min} arguments`);
  if (count > max) {
    throw new UsageError(
      max === 1 ? `expected one FILE, got ${count}` : `expected at most ${max} arguments, got ${count}`,
    );
  }
  return { values, positionals: parsed.positionals };
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
