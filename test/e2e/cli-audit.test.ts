/**
 * `elevate audit` end to end: a real history made the three ways GitHub
 * merges (merge commit, squash, rebase), grant evidence notes as the grant
 * workflow writes them, edits, renames and deletions; then a history of 2,000
 * requests read whole. How fast that is, is measured in bench/ (cli-throughput),
 * never here.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { AuditRow } from "../../src/domain/audit-log.js";
import type { GrantEvidence } from "../../src/domain/grant-report.js";
import { git, makeRepo, makeSandbox, runCli, type Sandbox, useSandboxEnvironment } from "./cli-request-support.js";

const RESIZE_TARGET = { kind: "role", roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role" };

const NOTES = "refs/notes/elevate";

let sandbox: Sandbox;
let repo: string;
const shas: Record<string, string> = {};

function at(env: NodeJS.ProcessEnv, iso: string, who = { name: "Alice Smith", email: "alice@example.com" }) {
  const stamp = `${Math.floor(Date.parse(iso) / 1000)} +0000`;
  return {
    ...env,
    GIT_AUTHOR_DATE: stamp,
    GIT_COMMITTER_DATE: stamp,
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: "GitHub",
    GIT_COMMITTER_EMAIL: "noreply@github.com",
  };
}

function write(path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

function request(requester: string, role: string, reason: string, extra = ""): string {
  return `requester: ${requester}\nrole: ${role}\nduration: 1h\nreason: ${reason}\n${extra}`;
}

function evidence(fields: Partial<GrantEvidence> & Pick<GrantEvidence, "event" | "requestId" | "file" | "mergeSha">) {
  const base: GrantEvidence = {
    schema: "elevate.grant/v1",
    requester: "alice",
    approvals: [],
    recordedAt: "2026-11-01T10:00:05Z",
    ...fields,
  };
  return JSON.stringify(base);
}

function addNote(sha: string, lines: string[]): void {
  git(repo, ["notes", `--ref=${NOTES}`, "append", "-F", "-", sha], sandbox.env, `${lines.join("\n")}\n`);
}

beforeAll(() => {
  sandbox = makeSandbox();
  useSandboxEnvironment(sandbox);
  repo = makeRepo(sandbox);
  const env = sandbox.env;
  const bob = { name: "Bob", email: "bob@example.com" };

  // PR #1, merge commit: alice adds a request on a branch; merged 2026-11-01T10:00Z; granted.
  git(repo, ["checkout", "-q", "-b", "alice/resize"], env);
  write("requests/ec2-admin/resize-web.yaml", request("alice", "ec2-admin", "Resize the web ASG", "ticket: INC-1\n"));
  git(repo, ["add", "requests"], env);
  git(repo, ["commit", "-q", "-m", "Request ec2-admin"], at(env, "2026-11-01T09:00:00Z"));
  git(repo, ["checkout", "-q", "main"], env);
  git(
    repo,
    ["merge", "-q", "--no-ff", "alice/resize", "-m", "Merge pull request #1 from alice/resize"],
    at(env, "2026-11-01T10:00:00Z", bob),
  );
  shas.pr1 = git(repo, ["rev-parse", "HEAD"], env).trim();
  addNote(shas.pr1, [
    evidence({
      event: "refused",
      requestId: "resize-web",
      file: "requests/ec2-admin/resize-web.yaml",
      mergeSha: shas.pr1,
      refusal: "automation exec-0 ended TimedOut",
      recordedAt: "2026-11-01T10:00:30Z",
    }),
    // A re-run granted it: the grant decides the row.
    evidence({
      event: "granted",
      requestId: "resize-web",
      file: "requests/ec2-admin/resize-web.yaml",
      mergeSha: shas.pr1,
      iamUser: "alice.smith",
      roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      reason: "Resize the web ASG",
      ticket: "INC-1",
      pr: {
        number: 1,
        url: "https://github.com/acme/access/pull/1",
        author: "alice",
        headSha: "a".repeat(40),
        mergedAt: "2026-11-01T10:00:00Z",
      },
      approvals: [
        { login: "carol", reviewId: 11, commitId: "a".repeat(40) },
        { login: "dave", reviewId: 12, commitId: "a".repeat(40) },
      ],
      window: { notBefore: "2026-11-01T10:00:00Z", notAfter: "2026-11-01T11:00:00Z" },
      execution: { id: "exec-1", status: "Success" },
      recordedAt: "2026-11-01T10:05:00Z",
    }),
  ]);

  // PR #2, squash: bob's request, refused (not enough approvals). A reason that is a spreadsheet formula.
  write("requests/read-only/bob-logs.yaml", request("bob", "read-only", `'=HYPERLINK("http://x","y")'`));
  git(repo, ["add", "requests"], env);
  git(repo, ["commit", "-q", "-m", "Read the logs (#2)"], at(env, "2026-11-02T10:00:00Z", bob));
  shas.pr2 = git(repo, ["rev-parse", "HEAD"], env).trim();
  addNote(shas.pr2, [
    evidence({
      event: "refused",
      requestId: "bob-logs",
      file: "requests/read-only/bob-logs.yaml",
      requester: "bob",
      mergeSha: shas.pr2,
      refusal: "1 of 2 approvals from code owners (@acme/platform) on the PR head 0123456789ab",
      recordedAt: "2026-11-02T10:00:10Z",
    }),
  ]);

  // PR #3: resize-web is edited after its merge (grants nothing; flagged).
  write(
    "requests/ec2-admin/resize-web.yaml",
    request("alice", "ec2-admin", "Resize the web ASG again", "ticket: INC-1\n"),
  );
  git(repo, ["commit", "-q", "-am", "Extend the resize (#3)"], at(env, "2026-11-01T10:30:00Z"));
  shas.pr3 = git(repo, ["rev-parse", "HEAD"], env).trim();

  // PR #4: bob-logs is renamed.
  git(repo, ["mv", "requests/read-only/bob-logs.yaml", "requests/read-only/bob-logs-2.yaml"], env);
  git(repo, ["commit", "-q", "-m", "Rename (#4)"], at(env, "2026-11-03T10:00:00Z", bob));

  // PR #5, rebase merge: resize-web deleted by bob before its window ended (revoked early).
  git(repo, ["rm", "-q", "requests/ec2-admin/resize-web.yaml"], env);
  git(repo, ["commit", "-q", "-m", "Revoke resize-web (#5)"], at(env, "2026-11-01T10:40:00Z", bob));

  // A request merged with no evidence (the grant workflow never ran), not yet removed.
  write("requests/read-only/carol-dash.yaml", request("Carol-X", "read-only", "Check the dashboards | **bold** <b>"));
  git(repo, ["add", "requests"], env);
  git(repo, ["commit", "-q", "-m", "Merge pull request #6 from carol/dash"], at(env, "2026-11-04T10:00:00Z"));
});

async function rows(args: string[] = [], cwd = repo): Promise<AuditRow[]> {
  const run = await runCli(["audit", "--format", "json", ...args], cwd);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as AuditRow[];
}

describe("elevate audit rebuilds one row per request from git history and notes", () => {
  it("json: granted after a re-run, refused, revoked early, rewritten, no evidence", async () => {
    const all = await rows();
    expect(all.map((r) => r.id)).toEqual(["resize-web", "bob-logs", "carol-dash"]);
    const [resize, logs, dash] = all as [AuditRow, AuditRow, AuditRow];
    expect(resize).toEqual({
      id: "resize-web",
      file: "requests/ec2-admin/resize-web.yaml",
      role: "ec2-admin",
      requester: "alice",
      iamUser: "alice.smith",
      reason: "Resize the web ASG",
      ticket: "INC-1",
      pr: 1,
      prUrl: "https://github.com/acme/access/pull/1",
      commit: shas.pr1,
      mergedAt: "2026-11-01T10:00:00Z",
      approvers: ["carol", "dave"],
      window: { notBefore: "2026-11-01T10:00:00Z", notAfter: "2026-11-01T11:00:00Z" },
      status: "granted",
      executionId: "exec-1",
      refusal: null,
      removed: {
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
        at: "2026-11-01T10:40:00Z",
        author: "Bob <bob@example.com>",
        committer: "GitHub <noreply@github.com>",
        pr: 5,
      },
      revokedEarly: true,
      rewrites: [
        {
          commit: shas.pr3,
          at: "2026-11-01T10:30:00Z",
          author: "Alice Smith <alice@example.com>",
          committer: "GitHub <noreply@github.com>",
          pr: 3,
          change: "modified",
          to: null,
        },
      ],
      identityCenterUser: null,
      target: RESIZE_TARGET,
    });
    expect(logs).toMatchObject({
      requester: "bob",
      status: "refused",
      refusal: "1 of 2 approvals from code owners (@acme/platform) on the PR head 0123456789ab",
      pr: 2,
      mergedAt: "2026-11-02T10:00:00Z",
      removed: null,
      revokedEarly: false,
      rewrites: [{ change: "renamed", to: "requests/read-only/bob-logs-2.yaml", pr: 4 }],
    });
    // No evidence: what the request file says, from history alone.
    expect(dash).toMatchObject({
      requester: "Carol-X",
      reason: "Check the dashboards | **bold** <b>",
      status: "no-evidence",
      iamUser: null,
      approvers: [],
      window: null,
      pr: 6,
    });
  });

  it("--since / --until filter by merge time (a plain --until date includes the day)", async () => {
    expect((await rows(["--since", "2026-11-02"])).map((r) => r.id)).toEqual(["bob-logs", "carol-dash"]);
    expect((await rows(["--until", "2026-11-02"])).map((r) => r.id)).toEqual(["resize-web", "bob-logs"]);
    expect(
      (await rows(["--since", "2026-11-02T10:00:01Z", "--until", "2026-11-04T10:00:00+00:00"])).map((r) => r.id),
    ).toEqual(["carol-dash"]);
  });

  it("csv: RFC 4180 quoting and a formula guard on every cell", async () => {
    const run = await runCli(["audit", "--format", "csv"], repo);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\r\n");
    expect(lines[0]).toBe(
      "id,file,role,requester,iam_user,reason,ticket,pr,merged_at,commit,approvers,not_before,not_after,status,execution_id,refusal,revoked_early,removed_by,removed_at,removed_pr,rewritten,identity_center_user,target_kind,target",
    );
    expect(lines[2]).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
    expect(lines[1]).toContain(
      ",carol dave,2026-11-01T10:00:00Z,2026-11-01T11:00:00Z,granted,exec-1,,yes,Bob <bob@example.com>,",
    );
    expect(lines.at(-1)).toBe("");
    expect(lines).toHaveLength(5);
  });

  it("md: one table row per request, user text escaped", async () => {
    const run = await runCli(["audit"], repo);
    expect(run.code).toBe(0);
    const table = run.stdout.trimEnd().split("\n");
    expect(table).toHaveLength(5);
    expect(table[0]).toMatch(/^\| Request \| Requester \| IAM user \| Role \| Target \| Reason \|/);
    expect(table[2]).toContain(
      // One escaper for everything the tool writes (src/domain/markdown.ts): mentions and references broken too.
      "| granted (exec-1) | revoked early by Bob \\<bob\\@\u200bexample.com\\> at 2026-11-01T10:40:00Z (PR \\#\u200b5) |",
    );
    expect(table[4]).toContain("| Check the dashboards \\| \\*\\*bold\\*\\* \\<b\\> |");
    // Every row has as many unescaped column separators as the header.
    const columns = (line: string) => line.replace(/\\\|/g, "").split("|").length;
    for (const line of table) expect(columns(line)).toBe(columns(table[0] as string));
    expect(run.stderr).toContain("1 request(s) have no grant evidence");
  });

  it("without the notes (a fresh clone): rows from history and a hint to fetch them", async () => {
    const clone = join(sandbox.dir, "clone");
    rmSync(clone, { recursive: true, force: true });
    git(sandbox.dir, ["clone", "-q", repo, clone], sandbox.env);
    const run = await runCli(["audit", "--format", "json"], clone);
    expect(run.code).toBe(0);
    const cloned = JSON.parse(run.stdout) as AuditRow[];
    expect(cloned.map((r) => [r.id, r.status, r.requester, r.revokedEarly])).toEqual([
      ["resize-web", "no-evidence", "alice", true],
      ["bob-logs", "no-evidence", "bob", false],
      ["carol-dash", "no-evidence", "Carol-X", false],
    ]);
    expect(run.stderr).toContain("git fetch origin refs/notes/elevate:refs/notes/elevate");
    git(clone, ["fetch", "-q", "origin", `${NOTES}:${NOTES}`], sandbox.env);
    const fetched = await rows([], clone);
    expect(fetched.map((r) => r.status)).toEqual(["granted", "refused", "no-evidence"]);
  });

  it("usage errors and a directory outside git: exit 2", async () => {
    for (const args of [["--since", "yesterday"], ["--until", "2026-02-30"], ["--format", "xml"], ["extra"]]) {
      const run = await runCli(["audit", ...args], repo);
      expect(run.code, args.join(" ")).toBe(2);
    }
    const since = await runCli(["audit", "--since", "2026-12-01", "--until", "2026-11-01"], repo);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("is after --until");
    const outside = join(sandbox.dir, "not-a-repo");
    mkdirSync(outside, { recursive: true });
    const run = await runCli(["audit"], outside);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not inside a git repository");
  });

  it("a repository without commits has an empty log", async () => {
    const empty = join(sandbox.dir, "empty");
    mkdirSync(empty, { recursive: true });
    git(empty, ["init", "-q", "-b", "main"], sandbox.env);
    expect(await rows([], empty)).toEqual([]);
  });
});

describe("elevate audit at scale", () => {
  it("2,000 requests with evidence: every one read, in merge order, with its note", async () => {
    const big = join(sandbox.dir, "big");
    mkdirSync(big, { recursive: true });
    git(big, ["init", "-q", "-b", "main"], sandbox.env);
    // git fast-import builds the history in one process: one commit per request, then one notes commit.
    const count = 2_000;
    const start = Date.parse("2026-01-01T00:00:00Z") / 1000;
    const parts: string[] = [];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    for (let i = 1; i <= count; i++) {
      const id = `req-${i}`;
      const who = `user${i % 50}`;
      parts.push(
        `commit refs/heads/main\nmark :${i}\ncommitter GitHub <noreply@github.com> ${start + i * 60} +0000\n`,
        data(`Merge pull request #${i} from ${who}/${id}`),
        `M 100644 inline requests/role-${i % 20}/${id}.yaml\n`,
        data(`requester: ${who}\nrole: role-${i % 20}\nduration: 1h\nreason: Routine maintenance number ${i}\n`),
      );
    }
    parts.push(`commit ${NOTES}\ncommitter Elevate <elevate@example.com> ${start + count * 60} +0000\n`, data("notes"));
    for (let i = 1; i <= count; i++) {
      const note = JSON.stringify({
        schema: "elevate.grant/v1",
        event: "granted",
        requestId: `req-${i}`,
        file: `requests/role-${i % 20}/req-${i}.yaml`,
        requester: `user${i % 50}`,
        iamUser: `user${i % 50}`,
        reason: `Routine maintenance number ${i}`,
        ticket: `OPS-${i}`,
        mergeSha: "0".repeat(40),
        approvals: [{ login: "approver", reviewId: i, commitId: "0".repeat(40) }],
        window: { notBefore: "2026-01-01T00:00:00Z", notAfter: "2026-01-01T01:00:00Z" },
        execution: { id: `exec-${i}`, status: "Success" },
        recordedAt: new Date((start + i * 60 + 5) * 1000).toISOString(),
      });
      parts.push(`N inline :${i}\n`, data(note));
    }
    // A larger malloc top pad stops glibc from returning memory after every commit, which on some
    // virtual machines makes fast-import 30 times slower (brk storms); it changes nothing else.
    git(
      big,
      ["fast-import", "--quiet"],
      { ...sandbox.env, MALLOC_TOP_PAD_: String(128 * 1024 * 1024) },
      parts.join(""),
    );

    const run = await runCli(["audit", "--format", "csv"], big);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\r\n");
    expect(lines).toHaveLength(count + 1);
    expect(lines[count]).toMatch(/^req-2000,requests\/role-0\/req-2000\.yaml,role-0,user0,user0,/);
    expect(lines.filter((line) => line.includes(",granted,exec-"))).toHaveLength(count);
  }, 60_000);
});
