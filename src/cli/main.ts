/**
 * `npx elevate <command>`: parses argv and dispatches through `commands`.
 * Adding a command (`request`, `audit`, `status`, `demo`) is one entry in that
 * table; the command's work lives in its mode module (src/modes/).
 */
import { GITHUB_LOGIN } from "../domain/config.js";
import { formatLocatedError, type LocatedError } from "../domain/errors.js";
import { planText } from "../domain/plan-text.js";
import { MAX_YAML_BYTES } from "../domain/strict-yaml.js";
import { closestName } from "../domain/suggest.js";
import { auditCommand } from "../modes/audit.js";
import { demoCommand } from "../modes/demo.js";
import { doctorCommand } from "../modes/doctor.js";
import { initCommand } from "../modes/init.js";
import { runPlan } from "../modes/plan.js";
import { requestCommand } from "../modes/request.js";
import { statusCommand } from "../modes/status.js";
import { type RequestFileCheck, runValidate } from "../modes/validate.js";
import {
  type CliCommand,
  type CliContext,
  choiceOption,
  commandHelp,
  EXIT,
  type Output,
  parseCommandArgs,
  stringOption,
  timeOption,
  UsageError,
} from "./args.js";
import { VERSION } from "./version.js";

export const PROGRAM = "elevate";

function printErrors(out: Output, errors: readonly LocatedError[]): void {
  for (const error of errors) out.write(`${formatLocatedError(error)}\n`);
}

/** The `--format json` shape of one file (README.md "CLI"). */
function jsonResult(check: Pick<RequestFileCheck, "file" | "valid" | "errors" | "request" | "note">) {
  return {
    file: check.file,
    valid: check.valid,
    errors: check.errors.map(({ line, col, message }) => ({ line, col, message })),
    ...(check.request ? { request: check.request } : {}),
    ...(check.note ? { note: check.note } : {}),
  };
}

/** Reads standard input whole, refusing more than `maxBytes` (a request file is at most 8 KiB). */
async function readStdin(context: CliContext, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of context.stdin ?? process.stdin) {
    const buffer = Buffer.from(chunk);
    size += buffer.length;
    chunks.push(buffer);
    // One byte over is enough for the size error to name the limit.
    if (size > maxBytes) break;
  }
  return new Uint8Array(Buffer.concat(chunks));
}

const configOption = {
  type: "string",
  valueName: "F",
  description: "config file, relative to the current directory (default: .github/elevate.yml at the repository root)",
} as const;

const validateCommand: CliCommand = {
  summary: "Validate request files against the config.",
  usage: "[--config F] [--author LOGIN] [--now ISO] [--format text|json] [--path P] FILE|DIR|-…",
  description: [
    "Checks each FILE (relative to the current directory) exactly as the pull request check and the",
    "grant will: path and id, strict YAML, requester, role, duration, reason, ticket and start, and that",
    "the id is unique across requests/. A DIR stands for every .yaml/.yml file under it (recursively);",
    "- reads one request from standard input, with --path saying where the file would live.",
    "A file that already exists on the default branch (origin/HEAD, else main) is compared with it:",
    "an edit of a merged request is an error (edits grant nothing); the merged file itself gets a note.",
    "Exit status: 0 all valid, 1 any invalid, 2 usage or config error.",
  ].join("\n"),
  options: {
    config: configOption,
    author: {
      type: "string",
      valueName: "LOGIN",
      description: "pull request author; the requester must be this login",
    },
    now: { type: "string", valueName: "ISO", description: "judge the request at this RFC 3339 time (default: now)" },
    format: { type: "string", valueName: "text|json", description: "output format (default: text)" },
    path: {
      type: "string",
      valueName: "P",
      description: "with -: where the file read from standard input would live, e.g. requests/ec2-admin/x.yaml",
    },
  },
  positionals: { min: 1, max: Number.POSITIVE_INFINITY },
  async run(context, args) {
    const format = choiceOption(args, "format", ["text", "json"] as const) ?? "text";
    const author = stringOption(args, "author");
    if (author !== undefined && !GITHUB_LOGIN.test(author)) {
      throw new UsageError(`--author ${JSON.stringify(author)} is not a GitHub login`);
    }
    const now = timeOption(args, "now") ?? context.now();
    const stdinPath = stringOption(args, "path");
    const dashes = args.positionals.filter((file) => file === "-").length;
    if (dashes > 1) throw new UsageError("- (standard input) may be given only once");
    if (dashes === 1 && stdinPath === undefined) {
      throw new UsageError(
        "- reads a request from standard input; say where it would live with --path, e.g. --path requests/ec2-admin/my-request.yaml",
      );
    }
    if (dashes === 0 && stdinPath !== undefined) {
      throw new UsageError("--path names the file read from standard input; give - as the FILE too");
    }
    const outcome = await runValidate({
      cwd: context.cwd,
      config: stringOption(args, "config"),
      author,
      now,
      files: args.positionals,
      stdin: stdinPath === undefined ? undefined : { path: stdinPath, bytes: await readStdin(context, MAX_YAML_BYTES) },
    });
    if (outcome.status === "config-error") {
      if (format === "json") {
        const file = outcome.errors[0]?.file ?? "";
        context.stdout.write(
          `${JSON.stringify([jsonResult({ file, valid: false, errors: outcome.errors })], null, 2)}\n`,
        );
      }
      printErrors(context.stderr, outcome.errors);
      context.stderr.write(`${PROGRAM}: the config is invalid or missing; nothing was validated\n`);
      return EXIT.USAGE;
    }
    const { results } = outcome;
    for (const dir of outcome.emptyDirectories) {
      context.stderr.write(`${PROGRAM} validate: no request files (.yaml, .yml) under ${dir}\n`);
    }
    if (format === "json") {
      context.stdout.write(`${JSON.stringify(results.map(jsonResult), null, 2)}\n`);
    } else {
      for (const result of results) {
        if (result.valid && result.request) {
          const r = result.request;
          context.stdout.write(
            `${result.file}: ok: ${r.requester} (IAM user ${r.iamUser}) may assume ${r.roleArn} for ${r.duration}; ${r.approvals} approval(s) required\n`,
          );
          if (result.note) context.stdout.write(`${result.file}: note: ${result.note}\n`);
        } else {
          printErrors(context.stderr, result.errors);
        }
      }
    }
    if (results.some((r) => r.unreadable)) return EXIT.USAGE;
    return results.every((r) => r.valid) ? EXIT.OK : EXIT.INVALID;
  },
};

const planCommand: CliCommand = {
  summary: "Print what merging a request would grant (JSON, or text for people).",
  usage: "[--config F] [--merged-at ISO] [--format json|text] FILE",
  description: [
    "Validates FILE as the grant would at the merge time, then prints requestId, iamUser, roleArn,",
    "notBefore, notAfter, policyName and policyDocument: the exact inline policy the grant writes.",
    "--format text prints the same for people, like terraform plan. A file that edits a request",
    "already merged on the default branch plans nothing (edits grant nothing).",
    "Exit status: 0 planned, 1 invalid request, 2 usage or config error.",
  ].join("\n"),
  options: {
    config: configOption,
    format: { type: "string", valueName: "json|text", description: "output format (default: json)" },
    "merged-at": {
      type: "string",
      valueName: "ISO",
      description: "plan for a merge at this RFC 3339 time (default: now)",
    },
  },
  positionals: { min: 1, max: 1 },
  async run(context, args) {
    const format = choiceOption(args, "format", ["json", "text"] as const) ?? "json";
    const mergedAt = timeOption(args, "merged-at") ?? context.now();
    const file = args.positionals[0] as string;
    const outcome = await runPlan({ cwd: context.cwd, config: stringOption(args, "config"), file, mergedAt });
    switch (outcome.status) {
      case "planned":
        if (format === "text") {
          context.stdout.write(
            planText({ file, plan: outcome.plan, request: outcome.request, mergedAt, note: outcome.note }),
          );
        } else {
          context.stdout.write(`${JSON.stringify(outcome.plan, null, 2)}\n`);
          if (outcome.note) context.stderr.write(`${file}: note: ${outcome.note}\n`);
        }
        return EXIT.OK;
      case "invalid":
        printErrors(context.stderr, outcome.errors);
        return EXIT.INVALID;
      case "unreadable":
        printErrors(context.stderr, outcome.errors);
        return EXIT.USAGE;
      case "config-error":
        printErrors(context.stderr, outcome.errors);
        context.stderr.write(`${PROGRAM}: the config is invalid or missing; nothing was planned\n`);
        return EXIT.USAGE;
    }
  },
};

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
    if (error instanceof UsageError) {
      context.stderr.write(`${PROGRAM} ${name}: ${error.message}\n`);
      context.stderr.write(`usage: ${PROGRAM} ${name} ${command.usage} (see '${PROGRAM} ${name} --help')\n`);
      return EXIT.USAGE;
    }
    context.stderr.write(`${PROGRAM} ${name}: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.USAGE;
  }
}
