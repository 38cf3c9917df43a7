/**
 * `npx elevate <command>`: parses argv and dispatches through `commands`.
 * Adding a command is one entry in that table: its options, help and exit
 * status in src/cli/commands/, its work in its mode module (src/modes/),
 * which knows nothing of the CLI.
 */
import { UserInputError } from "../domain/errors.js";
import { closestName } from "../domain/suggest.js";
import { type CliCommand, type CliContext, commandHelp, EXIT, type Output, PROGRAM, parseCommandArgs } from "./args.js";
import { auditCommand } from "./commands/audit.js";
import { demoCommand } from "./commands/demo.js";
import { doctorCommand } from "./commands/doctor.js";
import { initCommand } from "./commands/init.js";
import { planCommand } from "./commands/plan.js";
import { requestCommand } from "./commands/request.js";
import { statusCommand } from "./commands/status.js";
import { validateCommand } from "./commands/validate.js";
import { VERSION } from "./version.js";

/** The command table. One entry per command; keep it in the order `--help` lists them. */
export const commands: Record<string, CliCommand> = {
  validate: validateCommand,
  plan: planCommand,
  request: requestCommand,
  audit: auditCommand,
  status: statusCommand,
  demo: demoCommand,
  init: initCommand,
  doctor: doctorCommand,
};

function programHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = [
    `Usage: ${PROGRAM} <command> [options]`,
    "",
    "Temporary elevated AWS access, requested and approved as GitHub pull requests.",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help ('elevate help COMMAND' or 'elevate COMMAND --help' for a command)",
    "  -V, --version  print the version",
    "",
    `Run '${PROGRAM} <command> --help' for a command's options.`,
  ];
  return `${lines.join("\n")}\n`;
}

/** An unknown command (or option in a command's place), with the closest command when it looks like a typo. */
export function unknownCommandMessage(typed: string): string {
  const names = Object.keys(commands);
  if (typed.startsWith("-")) {
    const guess = closestName(typed.replace(/^-+/, ""), ["help", "version"]);
    return `unknown option ${typed} before a command${guess ? `; did you mean --${guess}?` : ""}; commands: ${names.join(", ")} (see '${PROGRAM} --help')`;
  }
  const guess = closestName(typed, names);
  return `unknown command ${JSON.stringify(typed)}${guess ? `; did you mean '${PROGRAM} ${guess}'?` : ""}; commands: ${names.join(", ")} (see '${PROGRAM} --help')`;
}

export interface MainOptions {
  argv: readonly string[];
  cwd?: string;
  stdout?: Output;
  stderr?: Output;
  now?: () => Date;
  stdin?: AsyncIterable<string | Uint8Array>;
}

/** Runs one CLI invocation and returns its exit status. Never throws. */
export async function main(options: MainOptions): Promise<number> {
  const context: CliContext = {
    cwd: options.cwd ?? process.cwd(),
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    now: options.now ?? (() => new Date()),
    ...(options.stdin ? { stdin: options.stdin } : {}),
  };
  const [name, ...rest] = options.argv;
  if (name === undefined) {
    context.stderr.write(programHelp());
    return EXIT.USAGE;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    context.stdout.write(`${PROGRAM} ${VERSION}\n`);
    return EXIT.OK;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = rest[0];
    if (topic === undefined || rest.length > 1) {
      context.stdout.write(programHelp());
      return rest.length > 1 ? EXIT.USAGE : EXIT.OK;
    }
    const helped = Object.hasOwn(commands, topic) ? commands[topic] : undefined;
    if (!helped) {
      context.stderr.write(`${PROGRAM} help: ${unknownCommandMessage(topic)}\n`);
      return EXIT.USAGE;
    }
    context.stdout.write(commandHelp(PROGRAM, topic, helped));
    return EXIT.OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    context.stderr.write(`${PROGRAM}: ${unknownCommandMessage(name)}\n`);
    return EXIT.USAGE;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args === "help") {
      context.stdout.write(commandHelp(PROGRAM, name, command));
      return EXIT.OK;
    }
    return await command.run(context, args);
  } catch (error) {
    if (error instanceof UserInputError) {
      context.stderr.write(`${PROGRAM} ${name}: ${error.message}\n`);
      context.stderr.write(`usage: ${PROGRAM} ${name} ${command.usage} (see '${PROGRAM} ${name} --help')\n`);
      return EXIT.USAGE;
    }
    context.stderr.write(`${PROGRAM} ${name}: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.USAGE;
  }
}
