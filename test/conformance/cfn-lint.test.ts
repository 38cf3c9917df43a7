/**
 * cfn-lint, AWS's own CloudFormation linter, as an independent check of
 * infra/template.yaml: no errors, no warnings and no informational findings
 * (`--include-checks I`, `--non-zero-exit-code informational`). The sandbox's
 * mini-CloudFormation only knows what the template uses; cfn-lint knows every
 * resource type's schema, so it catches what the sandbox would let through.
 *
 * cfn-lint is a Python tool (docs/development.md says how to install it). Without
 * it, `npm test` still passes: the lint is skipped with a message saying why.
 * Under CI (CI=true) a missing cfn-lint is a failure, and .ci/run runs it
 * directly as well.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The version the project is checked with (CI installs exactly this one). */
const CFN_LINT_VERSION = "1.51.0";
const TEMPLATE = "infra/template.yaml";

function cfnLint(args: string[]) {
  return spawnSync("cfn-lint", args, { encoding: "utf8", timeout: 120_000 });
}

const probe = cfnLint(["--version"]);
const installed = probe.error === undefined && probe.status === 0;
if (!installed) {
  console.warn(
    `cfn-lint is not installed (${probe.error?.message ?? probe.stderr.trim()}): the cfn-lint check of ${TEMPLATE} is skipped. Install it with 'python3 -m pip install cfn-lint==${CFN_LINT_VERSION}' (docs/development.md); CI always runs it.`,
  );
}

describe("cfn-lint in CI", () => {
  it.runIf(process.env.CI === "true")("is installed, so the template is linted", () => {
    expect(installed, "cfn-lint must be on PATH in CI (.ci/run installs it)").toBe(true);
  });
});

describe.skipIf(!installed)(`cfn-lint on ${TEMPLATE}`, { timeout: 180_000 }, () => {
  it(`is version ${CFN_LINT_VERSION}`, () => {
    expect(probe.stdout.trim()).toBe(`cfn-lint ${CFN_LINT_VERSION}`);
  });

  it("finds nothing: no errors, warnings or informational findings", () => {
    const out = cfnLint([
      "--include-checks",
      "I",
      "--non-zero-exit-code",
      "informational",
      "--format",
      "parseable",
      "--",
      TEMPLATE,
    ]);
    expect(out.error).toBeUndefined();
    expect(out.stdout.trim(), "cfn-lint findings").toBe("");
    expect(out.status).toBe(0);
  });

  it("finds nothing in the member-account template (infra/member-template.yaml) either", () => {
    const out = cfnLint([
      "--include-checks",
      "I",
      "--non-zero-exit-code",
      "informational",
      "--format",
      "parseable",
      "--",
      "infra/member-template.yaml",
    ]);
    expect(out.error).toBeUndefined();
    expect(out.stdout.trim(), "cfn-lint findings").toBe("");
    expect(out.status).toBe(0);
  });

  it("does report findings (the check is not vacuous)", () => {
    // A misspelt required property: cfn-lint must name both problems.
    const dir = mkdtempSync(join(tmpdir(), "cfn-lint-"));
    try {
      const broken = join(dir, "broken.yaml");
      writeFileSync(
        broken,
        [
          "Resources:",
          "  Role:",
          "    Type: AWS::IAM::Role",
          "    Properties:",
          "      AssumeRolePolicyDocuments: {}",
          "",
        ].join("\n"),
      );
      const out = cfnLint([
        "--include-checks",
        "I",
        "--non-zero-exit-code",
        "informational",
        "--format",
        "parseable",
        "--",
        broken,
      ]);
      expect(out.status).not.toBe(0);
      expect(out.stdout).toMatch(/:E3003:/);
      expect(out.stdout).toMatch(/:E3002:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
