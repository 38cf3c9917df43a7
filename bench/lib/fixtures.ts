/**
 * Fixture repositories for the CLI benchmarks, made in a temp dir:
 *   - a valid `.github/elevate.yml` (docs/config.md) with a few roles,
 *   - N valid request files spread across the roles,
 *   - an audit history of N merged pull requests, written with one
 *     `git fast-import` for the commits and a second for the evidence notes
 *     (refs/notes/elevate, one GrantEvidence JSON line per merge, as the grant
 *     workflow writes them), because the evidence names the merge SHA.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GrantEvidence } from "../../src/domain/grant-report.js";

export const ACCOUNT_ID = "123456789012";

/** Roles of the fixture config: [key, maxDuration, requireTicket]. */
const ROLES: [string, string, boolean][] = [
  ["ec2-admin", "2h", true],
  ["rds-admin", "4h", false],
  ["billing-read", "8h", false],
  ["prod-deploy", "1h", true],
];

export const LOGINS = Array.from({ length: 20 }, (_, i) => `engineer-${i + 1}`);

export function fixtureConfig(): string {
  const users = LOGINS.map((login) => `  ${login}: ${login}.iam`).join("\n");
  const roles = ROLES.map(
    ([key, maxDuration, requireTicket]) =>
      `  ${key}:\n    arn: arn:aws:iam::${ACCOUNT_ID}:role/elevated/${key}\n    maxDuration: ${maxDuration}\n    requireTicket: ${requireTicket}`,
  ).join("\n");
  return `version: 1
aws:
  region: ap-northeast-1
  accountId: "${ACCOUNT_ID}"
  grantRoleArn: arn:aws:iam::${ACCOUNT_ID}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${ACCOUNT_ID}:role/elevate-revoke
  automationRoleArn: arn:aws:iam::${ACCOUNT_ID}:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
defaults:
  maxDuration: 4h
  approvals: 1
  requireTicket: false
users:
${users}
roles:
${roles}
`;
}

export interface FixtureRequest {
  id: string;
  ticket?: string;
  role: string;
  requester: string;
  path: string;
  text: string;
}

/** The i-th request of a fixture: valid against fixtureConfig(), ids unique. */
export function fixtureRequest(i: number): FixtureRequest {
  const [role, , requireTicket] = ROLES[i % ROLES.length] as [string, string, boolean];
  const requester = LOGINS[i % LOGINS.length] as string;
  const id = `req-${String(i).padStart(6, "0")}`;
  const ticket = requireTicket ? `INC-${1000 + i}` : undefined;
  const text = `requester: ${requester}\nrole: ${role}\nduration: 45m\nreason: Investigate incident number ${i} on the fleet\n${ticket ? `ticket: ${ticket}\n` : ""}`;
  return { id, role, requester, path: `requests/${role}/${id}.yaml`, text, ...(ticket ? { ticket } : {}) };
}

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, {
    cwd,
    input,
    encoding: "utf8",
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" },
  });
}

/** A git repository with the config and `count` request files in the working tree (committed config only). */
export function makeValidateRepo(dir: string, count: number): string[] {
  mkdirSync(join(dir, ".github"), { recursive: true });
  writeFileSync(join(dir, ".github", "elevate.yml"), fixtureConfig());
  git(dir, ["init", "-q", "-b", "main"]);
  const files: string[] = [];
  const made = new Set<string>();
  for (let i = 0; i < count; i++) {
    const r = fixtureRequest(i);
    if (!made.has(r.role)) {
      mkdirSync(join(dir, "requests", r.role), { recursive: true });
      made.add(r.role);
    }
    writeFileSync(join(dir, r.path), r.text);
    files.push(r.path);
  }
  return files;
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/**
 * A repository whose main branch holds `count` merged pull requests, each
 * adding one request file through a merge commit (GitHub's "Create a merge
 * commit"), and refs/notes/elevate with a "granted" evidence line on each
 * merge commit. Commits are one minute apart.
 */
export function makeAuditRepo(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "-b", "main"]);
  const start = Date.parse("2026-01-01T00:00:00Z") / 1000;
  const stream: string[] = [];
  const config = fixtureConfig();
  stream.push(
    `commit refs/heads/main\nmark :1\nauthor Platform <platform@example.com> ${start} +0000\ncommitter Platform <platform@example.com> ${start} +0000\n${data("Add Elevate config")}M 100644 inline .github/elevate.yml\n${data(config)}`,
  );
  // Marks: PR head commit of request i = 2i + 2, its merge = 2i + 3. fast-import
  // starts a commit from its first parent's tree, so the merge repeats the file.
  for (let i = 0; i < count; i++) {
    const r = fixtureRequest(i);
    const t = start + 60 * (i + 1);
    const head = 2 * i + 2;
    const merge = 2 * i + 3;
    const base = i === 0 ? 1 : merge - 2;
    stream.push(
      `commit refs/heads/pr\nmark :${head}\nauthor ${r.requester} <${r.requester}@example.com> ${t - 30} +0000\ncommitter ${r.requester} <${r.requester}@example.com> ${t - 30} +0000\n${data(`Request ${r.role} for ${r.id}`)}from :${base}\nM 100644 inline ${r.path}\n${data(r.text)}`,
    );
    stream.push(
      `commit refs/heads/main\nmark :${merge}\nauthor ${r.requester} <${r.requester}@example.com> ${t} +0000\ncommitter GitHub <noreply@github.com> ${t} +0000\n${data(`Merge pull request #${i + 1} from ${r.requester}/${r.id}\n\nRequest ${r.role} for ${r.id}`)}from :${base}\nmerge :${head}\nM 100644 inline ${r.path}\n${data(r.text)}`,
    );
  }
  const marksFile = join(dir, ".git", "bench-marks");
  git(dir, ["fast-import", "--quiet", `--export-marks=${marksFile}`], stream.join(""));
  git(dir, ["update-ref", "-d", "refs/heads/pr"]);

  const shaOfMark = new Map<number, string>();
  for (const line of readFileSync(marksFile, "utf8").split("\n")) {
    const m = /^:(\d+) ([0-9a-f]+)$/.exec(line);
    if (m) shaOfMark.set(Number(m[1]), m[2] as string);
  }
  const notes: string[] = [
    `commit refs/notes/elevate\ncommitter GitHub <noreply@github.com> ${start + 60 * (count + 1)} +0000\n${data("Grant evidence")}`,
  ];
  for (let i = 0; i < count; i++) {
    const r = fixtureRequest(i);
    const mergeSha = shaOfMark.get(2 * i + 3) as string;
    const headSha = shaOfMark.get(2 * i + 2) as string;
    const mergedAt = new Date((start + 60 * (i + 1)) * 1000);
    const evidence: GrantEvidence = {
      schema: "elevate.grant/v1",
      event: "granted",
      requestId: r.id,
      file: r.path,
      requester: r.requester,
      iamUser: `${r.requester}.iam`,
      roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/elevated/${r.role}`,
      reason: `Investigate incident number ${i} on the fleet`,
      ...(r.ticket ? { ticket: r.ticket } : {}),
      pr: {
        number: i + 1,
        url: `https://github.com/acme/access/pull/${i + 1}`,
        author: r.requester,
        headSha,
        mergedAt: mergedAt.toISOString(),
      },
      mergeSha,
      approvals: [
        {
          login: LOGINS[(i + 1) % LOGINS.length] as string,
          reviewId: 100_000 + i,
          commitId: headSha,
          submittedAt: mergedAt.toISOString(),
        },
      ],
      window: { notBefore: mergedAt.toISOString(), notAfter: new Date(mergedAt.getTime() + 45 * 60_000).toISOString() },
      execution: { id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, status: "Success" },
      recordedAt: new Date(mergedAt.getTime() + 5000).toISOString(),
    };
    notes.push(`N inline ${mergeSha}\n${data(`${JSON.stringify(evidence)}\n`)}`);
  }
  git(dir, ["fast-import", "--quiet"], notes.join(""));
  git(dir, ["checkout", "-q", "main"]);
}
