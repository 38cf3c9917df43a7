import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestScenario } from "../../sandbox/git/scenario.js";
import { decodeJwt } from "../../sandbox/github/oidc.js";
import { DEFAULT_GITHUB_TOKEN_PERMISSIONS, GitHubSandbox } from "../../sandbox/github/server.js";
import { scheduleEvent, webhookRepository, workflowDispatchEvent } from "../../sandbox/harness/events.js";
import { analyzeStdout, parseFileCommand, unescapeProperty } from "../../sandbox/harness/parse.js";
import { inputVariableName, runAction } from "../../sandbox/harness/run-action.js";

const REPO = "acme/infra";
const moduleUrl = (path: string) => JSON.stringify(pathToFileURL(resolve(path)).href);

let dir: string;
let github: GitHubSandbox;
let scenario: RequestScenario;
let token: string;
let fixture: string;

/**
 * A throwaway action: self-contained, it imports @actions/core and @actions/github from
 * the repository's node_modules and exercises every channel the harness parses.
 */
const FIXTURE = `
import * as core from ${moduleUrl("node_modules/@actions/core/lib/core.js")};
import * as github from ${moduleUrl("node_modules/@actions/github/lib/github.js")};

const mode = core.getInput("mode", { required: true });
core.setOutput("mode", mode);
core.setOutput("request-ids", core.getInput("request-ids"));
core.setOutput("multiline", "line one\\nline two");
core.setOutput("leaked", JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith("AWS_") || k === "GITHUB_TOKEN" || k === "LEAK_CANARY")));
core.setOutput("context", JSON.stringify({ event: github.context.eventName, sha: github.context.sha, ref: github.context.ref, repo: github.context.repo, payloadRef: github.context.payload.ref ?? null }));
core.startGroup("Plan");
console.log("inside the group");
core.endGroup();
core.setSecret("s3cret-value");
core.exportVariable("ELEVATE_MODE", mode);
core.saveState("started", "yes");
core.addPath("/opt/elevate/bin");
core.error("bad role: ec2-admin, see docs", { file: "requests/ec2-admin/a.yaml", startLine: 3, startColumn: 7, title: "Invalid: role" });
core.warning("100% sure\\nsecond line");
core.notice("granted");
console.log("::stop-commands::pause-token");
console.log("::error::this is not a command");
console.log("::pause-token::");
if (mode === "oidc") {
  const idToken = await core.getIDToken("sts.amazonaws.com");
  core.setOutput("id-token", idToken);
}
if (mode === "api") {
  const octokit = github.getOctokit(core.getInput("github-token"));
  const { data } = await octokit.rest.pulls.get({ ...github.context.repo, pull_number: Number(core.getInput("pr")) });
  core.setOutput("pr-author", data.user.login);
}
if (mode === "hang") await new Promise(() => setInterval(() => {}, 1000));
await core.summary.addHeading("Elevate").addRaw("mode " + mode, true).write();
if (mode === "fail") core.setFailed("it failed");
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "elevate-harness-test-"));
  fixture = join(dir, "fixture-action.mjs");
  writeFileSync(fixture, FIXTURE);
  github = await GitHubSandbox.start();
  token = github.registerToken({ permissions: { ...DEFAULT_GITHUB_TOKEN_PERMISSIONS }, label: "GITHUB_TOKEN" });
  scenario = RequestScenario.create({
    github,
    repository: REPO,
    initialFiles: { ".github/elevate.yml": "version: 1\n" },
    parentDir: dir,
  });
  // Parent-process secrets that must not reach the action.
  process.env.AWS_SECRET_ACCESS_KEY = "parent-secret";
  process.env.GITHUB_TOKEN = "parent-token";
  process.env.LEAK_CANARY = "1";
});

afterAll(async () => {
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.GITHUB_TOKEN;
  delete process.env.LEAK_CANARY;
  scenario.dispose();
  await github.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("runAction", () => {
  it("runs a script with the runner's environment and parses outputs, summary, annotations and groups", async () => {
    const pr = scenario.openRequestPr({
      files: { "requests/ec2-admin/a.yaml": "requester: alice\n" },
      author: "alice",
    });
    const outcome = pr.merge("squash", { mergedBy: "bob" });
    const run = await runAction({
      bundlePath: fixture,
      inputs: { mode: "grant", "request-ids": "a b" },
      event: outcome.pushEvent,
      repository: REPO,
      workspace: scenario.checkoutWorkspace(outcome.pushEvent),
      apiUrl: github.url,
      env: { AWS_ENDPOINT_URL_STS: "http://127.0.0.1:1" },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ mode: "grant", "request-ids": "a b", multiline: "line one\nline two" });
    // Only what the caller passed on purpose; nothing from the parent's environment.
    expect(JSON.parse(run.outputs.leaked!)).toEqual(["AWS_ENDPOINT_URL_STS"]);
    expect(JSON.parse(run.outputs.context!)).toEqual({
      event: "push",
      sha: outcome.after,
      ref: "refs/heads/main",
      repo: { owner: "acme", repo: "infra" },
      payloadRef: "refs/heads/main",
    });
    expect(run.summary).toBe("<h1>Elevate</h1>\nmode grant\n");
    expect(run.annotations).toEqual([
      {
        level: "error",
        message: "bad role: ec2-admin, see docs",
        title: "Invalid: role",
        file: "requests/ec2-admin/a.yaml",
        line: 3,
        col: 7,
      },
      { level: "warning", message: "100% sure\nsecond line" },
      { level: "notice", message: "granted" },
    ]);
    expect(run.logGroups).toEqual([{ name: "Plan", lines: ["inside the group"] }]);
    expect(run.masks).toEqual(["s3cret-value"]);
    expect(run.exportedEnv).toEqual({ ELEVATE_MODE: "grant" });
    expect(run.state).toEqual({ started: "yes" });
    expect(run.addedPath).toEqual(["/opt/elevate/bin"]);
    expect(run.environment).toMatchObject({
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_REPOSITORY_OWNER: "acme",
      GITHUB_REF_NAME: "main",
      GITHUB_EVENT_NAME: "push",
      GITHUB_API_URL: github.url,
      GITHUB_GRAPHQL_URL: `${github.url}/graphql`,
      RUNNER_OS: "Linux",
      GITHUB_ACTOR: "bob",
      "INPUT_REQUEST-IDS": "a b",
    });
  });

  it("lets the action reach the GitHub stand-in and the OIDC endpoint through the runner's variables", async () => {
    const pr = scenario.openRequestPr({
      files: { "requests/ec2-admin/b.yaml": "requester: carol\n" },
      author: "carol",
    });
    const event = pr.pullRequestEvent("opened");
    const api = await runAction({
      bundlePath: fixture,
      inputs: { mode: "api", "github-token": token, pr: pr.number },
      event,
      repository: REPO,
      workspace: scenario.checkoutWorkspace(event),
      apiUrl: github.url,
    });
    expect(api.stderr).toBe("");
    expect(api.outputs["pr-author"]).toBe("carol");
    expect(api.environment).toMatchObject({
      GITHUB_REF_NAME: `${pr.number}/merge`,
      GITHUB_HEAD_REF: pr.branch,
      GITHUB_BASE_REF: "main",
    });

    const oidc = github.registerOidcRun({
      repository: REPO,
      eventName: "push",
      ref: "refs/heads/main",
      sha: scenario.mainSha(),
      workflowPath: ".github/workflows/elevate-grant.yml",
      actor: "bob",
      runId: 77,
    });
    const withOidc = await runAction({
      bundlePath: fixture,
      inputs: { mode: "oidc" },
      event: scheduleEvent({ repository: webhookRepository(REPO), cron: "17 * * * *", sha: scenario.mainSha() }),
      repository: REPO,
      workspace: scenario.checkoutWorkspace({ ref: "refs/heads/main", sha: scenario.mainSha() }),
      apiUrl: github.url,
      oidc,
    });
    expect(withOidc.exitCode).toBe(0);
    expect(decodeJwt(withOidc.outputs["id-token"]!).payload).toMatchObject({
      sub: "repo:acme/infra:ref:refs/heads/main",
      aud: "sts.amazonaws.com",
    });
    expect(withOidc.masks).toContain(withOidc.outputs["id-token"]);
  });

  it("reports failure exit codes and kills actions that exceed the timeout", async () => {
    const event = workflowDispatchEvent({
      repository: webhookRepository(REPO),
      sender: "alice",
      sha: scenario.mainSha(),
      workflowPath: ".github/workflows/elevate-revoke.yml",
      inputs: { "request-id": "a" },
    });
    const workspace = scenario.checkoutWorkspace(event);
    const failed = await runAction({
      bundlePath: fixture,
      inputs: { mode: "fail" },
      event,
      repository: REPO,
      workspace,
      apiUrl: github.url,
    });
    expect(failed.exitCode).toBe(1);
    expect(failed.annotations.at(-1)).toEqual({ level: "error", message: "it failed" });

    const hung = await runAction({
      bundlePath: fixture,
      inputs: { mode: "hang" },
      event,
      repository: REPO,
      workspace,
      apiUrl: github.url,
      timeoutMs: 1500,
    });
    expect(hung).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL" });
    await expect(
      runAction({ bundlePath: join(dir, "missing.js"), event, repository: REPO, workspace, apiUrl: github.url }),
    ).rejects.toThrow(/no action bundle/);
  });
});

describe("runner file and command formats", () => {
  it("names inputs as the runner does", () => {
    expect(inputVariableName("request-ids")).toBe("INPUT_REQUEST-IDS");
    expect(inputVariableName("github token")).toBe("INPUT_GITHUB_TOKEN");
  });

  it("parses heredoc and legacy lines, and rejects an unterminated heredoc", () => {
    expect(parseFileCommand("a=1\nb<<EOF\nx\n\ny\nEOF\nc<<D=1\nz\nD=1\n")).toEqual({ a: "1", b: "x\n\ny", c: "z" });
    expect(() => parseFileCommand("name<<EOF\nvalue\n", "GITHUB_OUTPUT")).toThrow(/matching delimiter not found/);
  });

  it("unescapes properties with %25 last", () => {
    expect(unescapeProperty("a%3Ab%2Cc%250A%0A")).toBe("a:b,c%0A\n");
    const { annotations, commands } = analyzeStdout(
      "::error file=x%2Cy.yaml,line=2::m%25\n::set-output name=x::legacy\n",
    );
    expect(annotations).toEqual([{ level: "error", file: "x,y.yaml", line: 2, message: "m%" }]);
    expect(commands.map((command) => command.command)).toEqual(["error", "set-output"]);
  });
});
