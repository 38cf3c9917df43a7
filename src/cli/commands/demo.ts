/** `elevate demo`: its help; the work is src/modes/demo.ts. */
import { runDemo } from "../../modes/demo.js";
import { type CliCommand, exitCode } from "../args.js";

export const demoCommand: CliCommand = {
  summary: "Run the whole loop locally against the sandbox.",
  usage: "",
  description: [
    "Starts local AWS and GitHub stand-ins, deploys infra/template.yaml into them, opens a request PR,",
    "shows the check's plan, approves it as a code owner, merges, runs the grant through the committed",
    "action bundle, proves the requester can assume the role (and others cannot), moves the clock past",
    "the window, runs the revoke, and prints the audit. Each step checks what it claims.",
    "Needs the Elevate source checkout with its dev dependencies (npm ci). Exit 0 only if every step passed.",
  ].join("\n"),
  options: {},
  positionals: { min: 0, max: 0 },
  async run(context) {
    return exitCode(await runDemo(context));
  },
};
