/** `elevate audit`: its options and help; the work is src/modes/audit.ts. */
import { NOTES_REF } from "../../adapters/git.js";
import { AUDIT_FORMATS } from "../../domain/audit-format.js";
import { FETCH_NOTES_HINT, runAudit } from "../../modes/audit.js";
import { type CliCommand, choiceOption, exitCode, stringOption } from "../args.js";
import { cliIo } from "../cli-io.js";

/** The `audit` entry of the CLI command table (src/cli/main.ts). */
export const auditCommand: CliCommand = {
  summary: "Print the audit log rebuilt from git history and the grant evidence notes.",
  usage: "[--format md|json|csv] [--since DATE] [--until DATE]",
  description: [
    "One row per request file added to the current branch: requester, IAM user, role, reason, ticket,",
    `PR, merge time, approvers, window, granted (execution id) or refused (why), early revocation and`,
    `edits. Evidence comes from the git notes ${NOTES_REF}; fetch them first (${FETCH_NOTES_HINT}).`,
    "DATE is YYYY-MM-DD (UTC; --until includes the day) or an RFC 3339 time; it filters by merge time.",
    "Exit status: 0 printed, 2 usage error or not a git repository.",
  ].join("\n"),
  options: {
    format: { type: "string", valueName: "md|json|csv", description: "output format (default: md)" },
    since: { type: "string", valueName: "DATE", description: "only requests merged at or after DATE" },
    until: { type: "string", valueName: "DATE", description: "only requests merged at or before DATE" },
  },
  positionals: { min: 0, max: 0 },
  async run(context, args) {
    const outcome = await runAudit(
      {
        format: choiceOption(args, "format", AUDIT_FORMATS),
        since: stringOption(args, "since"),
        until: stringOption(args, "until"),
      },
      cliIo(context),
    );
    return exitCode(outcome);
  },
};
