/** `elevate plan`: its options, help and output; the planning is src/modes/plan.ts. */
import { planText } from "../../domain/plan-text.js";
import { runPlan } from "../../modes/plan.js";
import { type CliCommand, choiceOption, configOption, EXIT, PROGRAM, stringOption, timeOption } from "../args.js";
import { printErrors } from "../output.js";

export const planCommand: CliCommand = {
  summary: "Print what merging a request would grant (JSON, or text for people).",
  usage: "[--config F] [--merged-at ISO] [--format json|text] FILE",
  description: [
    "Validates FILE as the grant would at the merge time, then prints kind, requestId, and for an",
    "IAM role iamUser, roleArn, notBefore, notAfter, policyName and policyDocument (the exact inline",
    "policy the grant writes); for a permission set identityCenterUser, instanceArn, permissionSetArn,",
    "accountId, notBefore, notAfter and runbook (the Elevate-GrantPermissionSet start).",
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
          context.stdout.write(`${JSON.stringify(outcome.json, null, 2)}\n`);
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
