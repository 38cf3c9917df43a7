import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvField, formatAuditCsv, formatAuditMarkdown, formatAuditRows } from "../../src/domain/audit-format.js";
import {
  type HistoryCommit,
  parseAuditLog,
  parseCatFileBatch,
  parseNotesList,
} from "../../src/domain/audit-git-output.js";
import {
  type AuditRow,
  auditTargetOf,
  buildAuditRows,
  parseAuditDate,
  prNumberFromMessage,
} from "../../src/domain/audit-log.js";
import type { GrantEvidence } from "../../src/domain/grant-report.js";

const sha = (n: number) => n.toString(16).padStart(40, "0");
const ZERO = "0".repeat(40);

function commit(n: number, date: string, message: string, changes: HistoryCommit["changes"]): HistoryCommit {
  const person = { name: "Alice", email: "alice@example.com", date };
  return { sha: sha(n), parents: [sha(n - 1)], author: person, committer: person, message, changes };
}

/** Text as `git log` prints it for the audit's arguments (fields NUL-terminated, then `\0\n` and raw changes). */
function logText(commits: HistoryCommit[]): string {
  return commits
    .map((c) => {
      const head = [c.sha, c.parents.join(" "), c.author.name, c.author.email, c.author.date, c.committer.name]
        .concat([c.committer.email, c.committer.date, c.message])
        .map((f) => `${f}\0`)
        .join("");
      const changes = c.changes
        .map((ch) => {
          const raw = `:100644 100644 ${ZERO} ${ch.blob} ${ch.status}${ch.status === "R" ? "100" : ""}`;
          return ch.oldPath === undefined ? `${raw}\0${ch.path}\0` : `${raw}\0${ch.oldPath}\0${ch.path}\0`;
        })
        .join("");
      return `${head}\0\n${changes}`;
    })
    .join("");
}

describe("parseAuditLog", () => {
  it("reads back what git prints, including hostile messages with separators and lookalike lines", () => {
    const commits = [
      commit(3, "2026-11-03T10:00:00+00:00", "Rename (#4)\n\n:100644 100644 x y A\u001f\u001e", [
        { status: "R", oldPath: "requests/a/x.yaml", path: "requests/a/y.yaml", blob: sha(100) },
      ]),
      commit(2, "2026-11-02T10:00:00+09:00", `${sha(9)}\nlooks like a commit`, [
        { status: "A", path: "requests/a/x.yaml", blob: sha(101) },
        { status: "D", path: "requests/a/old.yaml", blob: ZERO },
      ]),
    ];
    expect(parseAuditLog(logText(commits))).toEqual(commits);
  });

  it("refuses output it does not understand instead of guessing", () => {
    expect(() => parseAuditLog("not a sha\0")).toThrow(/unexpected git log output/);
  });
});

describe("parseCatFileBatch and parseNotesList", () => {
  it("splits objects by byte size (multi-byte text) and reports missing objects", () => {
    const body = Buffer.from("reason: 日本語 ✓\n");
    const output = Buffer.concat([
      Buffer.from(`${sha(1)} blob ${body.length}\n`),
      body,
      Buffer.from("\n"),
      Buffer.from(`${sha(2)} missing\n`),
      Buffer.from(`${sha(3)} blob 0\n\n`),
    ]);
    const objects = parseCatFileBatch(output, 3);
    expect(objects.map((o) => (o === undefined ? undefined : Buffer.from(o).toString()))).toEqual([
      "reason: 日本語 ✓\n",
      undefined,
      "",
    ]);
    expect(() => parseCatFileBatch(output, 4)).toThrow(/ended after 3 of 4/);
  });

  it("reads `git notes list` lines", () => {
    expect(parseNotesList(`${sha(1)} ${sha(2)}\n${sha(3)} ${sha(4)}\n`)).toEqual([
      { note: sha(1), object: sha(2) },
      { note: sha(3), object: sha(4) },
    ]);
    expect(parseNotesList("")).toEqual([]);
  });
});

describe("prNumberFromMessage", () => {
  it.each([
    ["Merge pull request #12 from alice/resize\n\nbody", 12],
    ["Resize the web ASG (#34)", 34],
    ["Resize the web ASG (#34)\n\n* (#99) in the body", 34],
    ["Mention #5 in passing", null],
    ["Direct push", null],
  ])("%j → %s", (message, expected) => {
    expect(prNumberFromMessage(message)).toBe(expected);
  });
});

describe("buildAuditRows", () => {
  const granted = (file: string, mergeSha: string, recordedAt: string, notAfter: string): GrantEvidence => ({
    schema: "elevate.grant/v1",
    event: "granted",
    requestId: file.replace(/^.*\/|\.yaml$/g, ""),
    file,
    requester: "alice",
    iamUser: "alice.smith",
    reason: "Resize the web ASG",
    mergeSha,
    approvals: [{ login: "carol", reviewId: 1, commitId: sha(50) }],
    window: { notBefore: recordedAt, notAfter },
    execution: { id: `exec-${mergeSha.slice(-2)}`, status: "Success" },
    recordedAt,
  });

  it("a path reused after a deletion: two rows, each with the evidence recorded on its own merge", () => {
    const file = "requests/a/x.yaml";
    const commits = [
      commit(4, "2026-11-05T10:00:00Z", "again (#3)", [{ status: "A", path: file, blob: sha(201) }]),
      commit(3, "2026-11-02T10:00:00Z", "Revoke (#2)", [{ status: "D", path: file, blob: ZERO }]),
      commit(2, "2026-11-01T10:00:00Z", "Add (#1)", [{ status: "A", path: file, blob: sha(200) }]),
    ];
    const rows = buildAuditRows({
      commits,
      evidence: [
        granted(file, sha(4), "2026-11-05T10:00:01Z", "2026-11-05T11:00:01Z"),
        granted(file, sha(2), "2026-11-01T10:00:01Z", "2026-11-01T11:00:01Z"),
      ],
      texts: new Map(),
    });
    expect(rows.map((r) => [r.commit, r.executionId, r.pr, r.removed?.pr ?? null, r.revokedEarly])).toEqual([
      [sha(2), "exec-02", 1, 2, false], // deleted a day after the window ended: removed, not revoked early
      [sha(4), "exec-04", 3, null, false],
    ]);
  });

  it("evidence on a later commit than the add (rebase merges) still finds its row", () => {
    const file = "requests/a/x.yaml";
    const rows = buildAuditRows({
      commits: [commit(2, "2026-11-01T10:00:00Z", "Add", [{ status: "A", path: file, blob: sha(200) }])],
      evidence: [granted(file, sha(3), "2026-11-01T10:00:09Z", "2026-11-01T11:00:00Z")],
      texts: new Map(),
    });
    expect(rows[0]?.status).toBe("granted");
  });

  it("ignores files under requests/ that are not request files", () => {
    const rows = buildAuditRows({
      commits: [commit(2, "2026-11-01T10:00:00Z", "docs", [{ status: "A", path: "requests/README.md", blob: sha(7) }])],
      evidence: [],
      texts: new Map(),
    });
    expect(rows).toEqual([]);
  });
});

/** A granted row with every text column set. */
function row(id: string): AuditRow {
  return {
    id,
    file: `requests/ec2-admin/${id}.yaml`,
    role: "ec2-admin",
    requester: "alice",
    iamUser: "alice.smith",
    reason: "Resize the web ASG",
    ticket: "INC-1",
    pr: 4,
    prUrl: null,
    commit: sha(9),
    mergedAt: "2026-11-01T10:00:00Z",
    approvers: ["bob"],
    window: { notBefore: "2026-11-01T10:00:00Z", notAfter: "2026-11-01T11:00:00Z" },
    status: "granted",
    executionId: "exec-1",
    refusal: null,
    removed: null,
    revokedEarly: false,
    rewrites: [],
    identityCenterUser: null,
    target: { kind: "role", roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role" },
  };
}

describe("CSV and Markdown escaping", () => {
  it("csvField follows RFC 4180 and guards formulas", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvField("=1+1")).toBe("'=1+1");
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("-1")).toBe("'-1");
    expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvField("\tx")).toBe("'\tx");
    expect(csvField("a\nb")).toBe('"a\nb"');
  });

  it("every CSV cell reads back as the guarded value (property)", () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const field = csvField(value);
        const unquoted = field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
        const expected = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
        expect(unquoted).toBe(expected);
        if (!field.startsWith('"')) expect(field).not.toMatch(/[",\r\n]/);
      }),
    );
  });

  it("Markdown cells go through the one escaper (src/domain/markdown.ts): one line, one column, no live markup", () => {
    // Changed deliberately: the audit table used its own mdCell, with other rules than
    // the PR comments; mentions, entities and URLs stayed live there.
    const table = formatAuditMarkdown([
      {
        ...row("x-1"),
        reason: "a | b ![x](http://t/p.png) <img> **b** `c` @alice #3 &#64;bob\nnext",
      },
    ]).split("\n");
    expect(table[2]).toContain(
      `| a \\| b !\\[x\\](http:\u200b//t/p.png) \\<img\\> \\*\\*b\\*\\* \\\`c\\\` \\@\u200balice \\#\u200b3 \\&\\#\u200b64;bob next |`,
    );
    fc.assert(
      fc.property(fc.string(), (value) => {
        const line = formatAuditMarkdown([{ ...row("x-1"), reason: value }]).split("\n")[2] ?? "";
        expect(line.replace(/\\\\/g, "").replace(/\\\|/g, "").split("|")).toHaveLength(16);
      }),
    );
  });

  it("formatAuditCsv ends every record with CRLF", () => {
    expect(formatAuditCsv([]).endsWith("rewritten,identity_center_user,target_kind,target\r\n")).toBe(true);
  });
});

describe("parseAuditDate", () => {
  it("days are UTC; --until includes the whole day", () => {
    expect(parseAuditDate("2026-11-30", "since")).toEqual({ ok: true, date: new Date("2026-11-30T00:00:00.000Z") });
    expect(parseAuditDate("2026-11-30", "until")).toEqual({ ok: true, date: new Date("2026-11-30T23:59:59.999Z") });
    expect(parseAuditDate("2026-11-30T09:00:00+09:00", "since")).toEqual({
      ok: true,
      date: new Date("2026-11-30T00:00:00Z"),
    });
  });

  it.each(["2026-02-30", "yesterday", "2026-11-30T09:00:00", "30/11/2026", ""])("refuses %j", (text) => {
    const parsed = parseAuditDate(text, "since");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain("--since");
  });
});

describe("targets of either kind", () => {
  const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
  it("the evidence names an IAM role, a permission set in an account, or nothing", () => {
    expect(auditTargetOf({ roleArn: "arn:aws:iam::123456789012:role/X" })).toEqual({
      kind: "role",
      roleArn: "arn:aws:iam::123456789012:role/X",
    });
    expect(auditTargetOf({ permissionSetArn: PS, accountId: "210987654321" })).toEqual({
      kind: "permissionSet",
      permissionSetArn: PS,
      accountId: "210987654321",
    });
    expect(auditTargetOf({ permissionSetArn: PS })).toBeNull();
    expect(auditTargetOf({})).toBeNull();
  });

  it("every format says which permission set in which account, for which Identity Center user", () => {
    const ps: AuditRow = {
      ...row("fix-prod-db"),
      role: "prod-admin",
      iamUser: null,
      identityCenterUser: "dora@acme.com",
      target: { kind: "permissionSet", permissionSetArn: PS, accountId: "210987654321" },
    };
    const csv = formatAuditCsv([ps]).split("\r\n")[1] ?? "";
    expect(
      csv.endsWith(`,dora@acme.com,permissionSet,${PS} in 210987654321 for Identity Center user dora@acme.com`),
    ).toBe(true);
    expect(formatAuditMarkdown([ps])).toContain(
      `| prod-admin | ${PS.replace(/:/g, ":")} in 210987654321 for Identity Center user dora\\@\u200bacme.com |`,
    );
    expect(JSON.parse(formatAuditRows([ps], "json"))[0]).toMatchObject({
      identityCenterUser: "dora@acme.com",
      target: { kind: "permissionSet", permissionSetArn: PS, accountId: "210987654321" },
    });
  });
});
