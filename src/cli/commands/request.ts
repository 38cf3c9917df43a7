/** `elevate request`: its options and help; the work is src/modes/request.ts. */
import { MAX_START_LEAD_DAYS } from "../../domain/request.js";
import { runRequest } from "../../modes/request.js";
import { type CliCommand, exitCode, UsageError } from "../args.js";
import { cliIo } from "../cli-io.js";

/** The `request` entry of the CLI command table (src/cli/main.ts). */
export const requestCommand: CliCommand = {
  summary: "Write a request file for you (and optionally open its pull request).",
  usage:
    "ROLE --duration D --reason R [--ticket T] [--start ISO] [--id ID] [--requester LOGIN] [--config F] [--open-pr] [--dry-run]",
  description: [
    "Writes requests/ROLE/<id>.yaml at the repository root for your GitHub login, after validating it",
    "exactly as the pull request check will. Your login comes from --requester, else `gh api user`",
    "(when gh is installed and signed in), else `git config github.user`.",
    "Exit status: 0 written, 1 invalid request (nothing written), 2 usage or environment error.",
  ].join("\n"),
  options: {
    duration: { type: "string", valueName: "D", description: "how long, Go-style: 90m, 2h, 1h30m" },
    reason: { type: "string", valueName: "R", description: "why you need the access (10..500 characters, one line)" },
    ticket: { type: "string", valueName: "T", description: "ticket reference, e.g. INC-1234" },
    start: {
      type: "string",
      valueName: "ISO",
      description: `start of the window, RFC 3339 with a zone, at most ${MAX_START_LEAD_DAYS} days ahead (default: at merge)`,
    },
    requester: { type: "string", valueName: "LOGIN", description: "your GitHub login (default: gh, then git config)" },
    id: {
      type: "string",
      valueName: "ID",
      description: "the request id, the file's name (default: <login>-<role>-<yyyymmdd>-<4 random>)",
    },
    config: {
      type: "string",
      valueName: "F",
      description: "config file, relative to the current directory (default: .github/elevate.yml at the root)",
    },
    "open-pr": {
      type: "boolean",
      description:
        "commit the file on a new branch elevate/<id> from the default branch, push it and open a pull request (needs a git identity, a clean tree and an origin remote; gh to open the PR)",
    },
    "dry-run": { type: "boolean", description: "print the file instead of writing it" },
  },
  positionals: { min: 1, max: 1, name: "ROLE" },
  async run(context, args) {
    const text = (name: string): string | undefined => {
      const value = args.values[name];
      if (value === undefined) return undefined;
      if (typeof value !== "string" || value === "") throw new UsageError(`--${name} needs a value`);
      return value;
    };
    const duration = text("duration");
    const reason = text("reason");
    if (duration === undefined) throw new UsageError("missing --duration (e.g. --duration 2h)");
    if (reason === undefined) throw new UsageError('missing --reason (e.g. --reason "Resize the web ASG")');
    const outcome = await runRequest(
      {
        role: args.positionals[0] as string,
        duration,
        reason,
        ticket: text("ticket"),
        start: text("start"),
        requester: text("requester"),
        id: text("id"),
        config: text("config"),
        openPr: args.values["open-pr"] === true,
        dryRun: args.values["dry-run"] === true,
      },
      cliIo(context),
    );
    return exitCode(outcome);
  },
};
