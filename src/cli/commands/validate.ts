/** `elevate validate`: its options, help and output; the checks are src/modes/validate.ts. */

import { type ElevateConfig, GITHUB_LOGIN } from "../../domain/config.js";
import { requestGrantSummary } from "../../domain/plan-text.js";
import { validRequestJson } from "../../domain/request-json.js";
import { MAX_YAML_BYTES } from "../../domain/strict-yaml.js";
import { type RequestFileCheck, runValidate } from "../../modes/validate.js";
import {
  type CliCommand,
  type CliContext,
  choiceOption,
  configOption,
  EXIT,
  PROGRAM,
  stringOption,
  timeOption,
  UsageError,
} from "../args.js";
import { printErrors } from "../output.js";

/** The `--format json` shape of one file (README.md "CLI"); `config` is the one it was checked against. */
function jsonResult(
  check: Pick<RequestFileCheck, "file" | "valid" | "errors" | "request" | "note">,
  config?: ElevateConfig,
) {
  return {
    file: check.file,
    valid: check.valid,
    errors: check.errors.map(({ line, col, message }) => ({ line, col, message })),
    ...(check.request && config ? { request: validRequestJson(check.request, config) } : {}),
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

export const validateCommand: CliCommand = {
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
      context.stdout.write(
        `${JSON.stringify(
          results.map((result) => jsonResult(result, outcome.config)),
          null,
          2,
        )}\n`,
      );
    } else {
      for (const result of results) {
        if (result.valid && result.request) {
          const r = result.request;
          context.stdout.write(
            `${result.file}: ok: ${requestGrantSummary(r)} for ${r.duration}; ${r.approvals} approval(s) required\n`,
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
