/**
 * `elevate doctor`: the three Elevate workflows, read as GitHub reads them. The AWS
 * roles trust exactly these file names on refs/heads/main, so each must exist under
 * its name, run on the right triggers, hold only the permissions it needs (an OIDC
 * token only where a role is assumed), run the Elevate action in its mode, and the
 * check, which branch rules require, must report on every pull request.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { type Finding, finding, type Severity } from "./doctor-findings.js";
import { FILE_START, type SourcePosition } from "./errors.js";

export type ElevateMode = "check" | "grant" | "revoke";

export const WORKFLOW_FILES: Record<ElevateMode, string> = {
  check: ".github/workflows/elevate-check.yml",
  grant: ".github/workflows/elevate-grant.yml",
  revoke: ".github/workflows/elevate-revoke.yml",
};

/** Permissions each job needs, exactly (more is a finding, less breaks the job). */
const JOB_PERMISSIONS: Record<ElevateMode, Record<string, string>> = {
  check: { contents: "read", "pull-requests": "write" },
  grant: { "id-token": "write", contents: "write", "pull-requests": "write" },
  revoke: { "id-token": "write", contents: "read", "pull-requests": "write" },
};

const COMMIT_SHA = /^[0-9a-f]{40}$/;

export interface WorkflowFile {
  mode: ElevateMode;
  path: string;
  /** Undefined when the file does not exist. */
  text: string | undefined;
}

export interface WorkflowContext {
  /** The branch the roles trust (refs/heads/<branch>); `main` for the shipped template. */
  branch: string;
  /** Whether `action/action.yml` exists in the repository (for `uses: ./action`). */
  hasLocalAction: boolean;
}

interface Located {
  node: Node | undefined;
  at: SourcePosition;
}

class WorkflowReader {
  readonly findings: Finding[] = [];
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
  ) {}
  position(node: Node | undefined): SourcePosition {
    const offset = node?.range?.[0];
    if (offset === undefined) return FILE_START;
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }
  report(node: Node | undefined, severity: Severity, message: string) {
    this.reportAt(this.position(node), severity, message);
  }
  reportAt(at: SourcePosition, severity: Severity, message: string) {
    this.findings.push(finding(this.file, at, severity, message));
  }
  /** The value under `key` in a map, and where to point when it is missing (the map). */
  get(map: Node | undefined, key: string): Located {
    if (!isMap(map)) return { node: undefined, at: this.position(map) };
    for (const pair of (map as YAMLMap).items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) {
        return { node: (pair.value ?? pair.key) as Node, at: this.position(pair.key as Node) };
      }
    }
    return { node: undefined, at: this.position(map) };
  }
}

function scalarText(node: Node | undefined): string | undefined {
  return isScalar(node) && node.value !== null ? String(node.value) : undefined;
}

function mapKeys(node: Node | undefined): string[] {
  return isMap(node) ? node.items.flatMap((pair) => (isScalar(pair.key) ? [String(pair.key.value)] : [])) : [];
}

/** `on:` as event names (a string, a list or a map). */
function triggerNames(on: Node | undefined): string[] {
  if (isScalar(on)) return [String(on.value)];
  if (isSeq(on)) return on.items.flatMap((item) => (isScalar(item) ? [String(item.value)] : []));
  return mapKeys(on);
}

function checkTriggers(r: WorkflowReader, mode: ElevateMode, root: Node, context: WorkflowContext) {
  const on = r.get(root, "on");
  const events = triggerNames(on.node);
  if (!on.node) {
    r.report(root, "error", "no 'on:' triggers");
    return;
  }
  if (events.includes("pull_request_target")) {
    r.report(
      on.node,
      "error",
      "pull_request_target runs pull request code with the repository's secrets and a write token; use pull_request",
    );
  }
  const need = (event: string, why: string) => {
    if (!events.includes(event)) r.report(on.node, "error", `'on:' lacks ${event}: ${why}`);
  };
  if (mode === "check") {
    need("pull_request", "the check never runs on request pull requests");
    const pr = r.get(on.node, "pull_request").node;
    for (const filter of ["paths", "paths-ignore", "branches-ignore"]) {
      const f = r.get(pr, filter);
      if (f.node) {
        r.reportAt(
          f.at,
          "error",
          `pull_request has a ${filter}: filter; branch rules require this check, and GitHub leaves a required check that a filter skipped pending, so other pull requests could never merge. Remove the filter (the check passes at once on a PR without request files)`,
        );
      }
    }
    return;
  }
  need("push", mode === "grant" ? "merges never grant" : "deleting a request file never revokes early");
  const push = r.get(on.node, "push").node;
  const branches = r.get(push, "branches").node;
  const listed = isSeq(branches) ? branches.items.map((b) => scalarText(b as Node)) : [];
  if (push && isMap(push) && branches && !listed.includes(context.branch)) {
    r.report(branches, "error", `push.branches does not include ${context.branch}, the branch the AWS roles trust`);
  }
  if (mode === "revoke") {
    need("schedule", "expired grants are only cleaned up by their own schedule");
    need("workflow_dispatch", "nobody can revoke a grant early by hand");
  }
}

function checkPermissions(r: WorkflowReader, mode: ElevateMode, root: Node, jobs: [string, Node][]) {
  const top = r.get(root, "permissions");
  if (!top.node) {
    r.report(
      root,
      "error",
      "no top-level 'permissions:'; the default token may be read-write for every job (write 'permissions: {}')",
    );
  } else if (isMap(top.node)) {
    for (const pair of top.node.items) {
      const level = scalarText(pair.value as Node);
      if (level === "write") {
        r.report(
          pair.key as Node,
          "error",
          `top-level permission ${String((pair.key as { value: unknown }).value)}: write applies to every job; grant it per job`,
        );
      }
    }
  } else if (scalarText(top.node) !== undefined) {
    r.report(
      top.node,
      "error",
      `top-level 'permissions: ${scalarText(top.node)}'; write 'permissions: {}' and grant each job what it needs`,
    );
  }
  for (const [id, job] of jobs) {
    const permissions = r.get(job, "permissions");
    const expected = JOB_PERMISSIONS[mode];
    if (!permissions.node || !isMap(permissions.node)) {
      r.report(
        permissions.node ?? job,
        "error",
        `job ${id}: write its permissions out: ${Object.entries(expected)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")}`,
      );
      continue;
    }
    const granted = new Map(
      permissions.node.items.map((p) => [
        String((p.key as { value: unknown }).value),
        { key: p.key as Node, level: scalarText(p.value as Node) },
      ]),
    );
    for (const [scope, level] of Object.entries(expected)) {
      const has = granted.get(scope);
      if (!has || (has.level !== level && !(level === "read" && has.level === "write"))) {
        r.report(
          has?.key ?? permissions.node,
          "error",
          `job ${id}: needs '${scope}: ${level}'${scope === "id-token" ? " to assume its AWS role through OIDC" : ""}`,
        );
      }
    }
    for (const [scope, has] of granted) {
      if (has.level === "none") continue;
      if (!Object.hasOwn(expected, scope)) {
        const severity: Severity = scope === "id-token" ? "error" : "warning";
        r.report(
          has.key,
          severity,
          scope === "id-token"
            ? `job ${id}: id-token: write lets this job (which runs pull request code) ask for an OIDC token; only the grant and revoke jobs need it`
            : `job ${id}: '${scope}: ${has.level}' is more than the ${mode} job needs`,
        );
      } else if (expected[scope] === "read" && has.level === "write") {
        r.report(has.key, "warning", `job ${id}: '${scope}: write' where read is enough`);
      }
    }
  }
}

function checkSteps(
  r: WorkflowReader,
  mode: ElevateMode,
  jobs: [string, Node][],
  context: WorkflowContext,
): string | undefined {
  let elevateUses: string | undefined;
  for (const [id, job] of jobs) {
    const environment = r.get(job, "environment");
    if (environment.node && mode !== "check") {
      r.report(
        environment.node,
        "error",
        `job ${id}: 'environment:' changes the OIDC token's sub claim, and the ${mode} role refuses it`,
      );
    }
    const steps = r.get(job, "steps").node;
    if (!isSeq(steps)) continue;
    for (const step of steps.items as Node[]) {
      const uses = r.get(step, "uses");
      const text = scalarText(uses.node);
      if (text === undefined) continue;
      const modeValue = scalarText(r.get(r.get(step, "with").node, "mode").node);
      if (modeValue !== undefined) {
        elevateUses = text;
        if (modeValue !== mode)
          r.report(
            uses.node,
            "error",
            `runs the Elevate action in mode ${modeValue}; this workflow must run mode ${mode}`,
          );
        if (text === "./action") {
          if (!context.hasLocalAction) {
            r.report(
              uses.node,
              "error",
              "uses ./action, but this repository has no action/action.yml; reference the Elevate action as OWNER/REPO/action@<commit SHA>",
            );
          }
        } else if (!/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[\w./+-]+$/.test(text)) {
          r.report(
            uses.node,
            "error",
            `${JSON.stringify(text)} is not a reference to the Elevate action (OWNER/REPO/action@<commit SHA> or ./action)`,
          );
        } else if (!COMMIT_SHA.test(text.slice(text.lastIndexOf("@") + 1))) {
          r.report(
            uses.node,
            "warning",
            `${text} is not pinned to a commit SHA; a moved tag or branch would change what runs with your AWS role`,
          );
        }
        continue;
      }
      if (
        !text.startsWith("./") &&
        !text.startsWith("docker://") &&
        !COMMIT_SHA.test(text.slice(text.lastIndexOf("@") + 1))
      ) {
        r.report(uses.node, "warning", `${text} is not pinned to a commit SHA`);
      }
    }
  }
  if (elevateUses === undefined) {
    r.report(undefined, "error", `no step runs the Elevate action with 'mode: ${mode}'`);
  }
  return elevateUses;
}

export interface WorkflowsReport {
  findings: Finding[];
  /** The `uses:` of the Elevate step of each workflow that has one. */
  actionReferences: Partial<Record<ElevateMode, string>>;
}

export function workflowFindings(files: readonly WorkflowFile[], context: WorkflowContext): WorkflowsReport {
  const findings: Finding[] = [];
  const actionReferences: Partial<Record<ElevateMode, string>> = {};
  for (const { mode, path, text } of files) {
    if (text === undefined) {
      findings.push(
        finding(
          path,
          FILE_START,
          "error",
          `missing: the ${mode} workflow must be ${path} (the AWS roles trust this file name)`,
        ),
      );
      continue;
    }
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const r = new WorkflowReader(path, lines);
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const at = error.linePos?.[0];
        findings.push(
          finding(
            path,
            at ? { line: at.line, col: at.col } : FILE_START,
            "error",
            `invalid YAML: ${error.message.split("\n")[0]}`,
          ),
        );
      }
      continue;
    }
    const root = document.contents as Node | null;
    if (!root || !isMap(root)) {
      findings.push(finding(path, FILE_START, "error", "a workflow must be a map with on: and jobs:"));
      continue;
    }
    checkTriggers(r, mode, root, context);
    const jobsNode = r.get(root, "jobs").node;
    const jobs: [string, Node][] = isMap(jobsNode)
      ? jobsNode.items.map((pair) => [String((pair.key as { value: unknown }).value), pair.value as Node])
      : [];
    if (jobs.length === 0) r.report(root, "error", "no jobs");
    checkPermissions(r, mode, root, jobs);
    const uses = checkSteps(r, mode, jobs, context);
    if (uses !== undefined) actionReferences[mode] = uses;
    findings.push(...r.findings);
  }
  const distinct = new Set(Object.values(actionReferences));
  if (distinct.size > 1) {
    findings.push(
      finding(
        WORKFLOW_FILES.check,
        FILE_START,
        "warning",
        `the workflows run different Elevate versions (${[...distinct].join(", ")}); keep them at one reference`,
      ),
    );
  }
  return { findings, actionReferences };
}
