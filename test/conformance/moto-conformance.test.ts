/**
 * Conformance: the same AWS calls against the sandbox (sandbox/aws) and against
 * moto 5 (`moto_server`), parsed by the real AWS SDK v3 clients the product
 * uses, compared on what Elevate's code reads. Where the two differ, the AWS API
 * reference decides: the sandbox was fixed, or the test records why moto is
 * wrong with an explicit expectation of moto's answer (so a moto upgrade that
 * fixes it shows up here). docs/development.md ("Conformance with moto") lists
 * every difference and the decision taken.
 *
 * moto checks neither SigV4 nor IAM authorization by default, so this suite
 * compares response shapes and values, never authorization; the sandbox's
 * authorization is pinned by its own tests (test/e2e/sandbox-aws-*.test.ts).
 *
 * One moto_server for the whole file; both sides start empty for every test
 * (moto's reset API, a fresh sandbox).
 */
import { createSign, generateKeyPairSync } from "node:crypto";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as iamSdk from "@aws-sdk/client-iam";
import {
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import * as schedulerSdk from "@aws-sdk/client-scheduler";
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import * as snsSdk from "@aws-sdk/client-sns";
import { CreateTopicCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import * as ssmSdk from "@aws-sdk/client-ssm";
import {
  CreateDocumentCommand,
  DescribeDocumentCommand,
  type DocumentDescription,
  GetDocumentCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import * as stsSdk from "@aws-sdk/client-sts";
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { selectPath } from "../../sandbox/aws/automation-engine.js";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";
import { ElevateWorld } from "../../sandbox/world.js";
import {
  assumeRoleWithWebIdentity,
  openRoleSession,
  publishNotification,
  readAuthorizationDetails,
  readDocumentContent,
} from "../../src/adapters/aws.js";
import { AwsClock, observeAwsTime } from "../../src/adapters/aws-clock.js";
import {
  cutoffPolicyName,
  cutoffPolicyText,
  decodePolicyDocument,
  grantPolicyName,
  grantPolicyText,
  parseGrantPolicy,
} from "../../src/domain/grant-policy.js";
import { readInventory } from "../../src/modes/inventory.js";
import { type MotoServer, motoAvailability, startMotoServer } from "../support/moto-server.js";

const moto = motoAvailability();
const SKIP_REASON = `moto_server is not available, so the moto conformance suite is SKIPPED: ${moto.reason}`;
if (!moto.available) console.warn(SKIP_REASON);

const REGION = "ap-northeast-1";
const ACCOUNT = "123456789012";
const ROLE_NAME = "EC2_FullAccess_Role";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/elevated/${ROLE_NAME}`;
const ISSUER = "https://token.actions.githubusercontent.com";
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const RUNBOOK_DIR = fileURLToPath(new URL("../../infra/runbooks/", import.meta.url));

type TargetName = "sandbox" | "moto";
interface Target {
  name: TargetName;
  endpoint: string;
  admin: Credentials;
  now(): Date;
}

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

function signJwt(claims: Record<string, unknown>): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "RS256", typ: "JWT", kid: "conformance" })}.${b64(claims)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
}

const policy = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

/** What Python's `urllib.parse.quote` (moto's encoder) makes of a string: `/` kept, `!'()*` escaped. */
function pythonQuote(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");
}

type Outcome<T> = { ok: true; value: T } | { ok: false; name: string; status: number | undefined; message: string };

async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    const e = err as { name: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, name: e.name, status: e.$metadata?.httpStatusCode, message: e.message ?? "" };
  }
}

/**
 * Seconds from `issuedAt` (taken just before the call) to `expiration`: `expected` when within
 * 5 s of it (a loaded machine may take a moment to answer), else the measured value, so a
 * mismatch shows what was issued.
 */
function lifetimeSeconds(expiration: Date | undefined, issuedAt: Date, expected: number): number | undefined {
  if (!expiration) return undefined;
  const seconds = (expiration.getTime() - issuedAt.getTime()) / 1000;
  return Math.abs(seconds - expected) <= 5 ? expected : Math.round(seconds);
}

/** The error of an outcome, or "ok": what a comparison of two failures looks at. */
const verdict = (o: Outcome<unknown>) => (o.ok ? "ok" : { name: o.name, status: o.status });

describe("moto_server in CI", () => {
  // CI must run the conformance suite, not skip it: GitHub Actions sets CI=true.
  it.runIf(process.env.CI === "true")("is installed, so the conformance suite runs", () => {
    expect(moto.available, moto.reason).toBe(true);
  });
});

describe.skipIf(!moto.available)(
  moto.available ? "conformance of the sandbox with moto 5" : `conformance with moto (${SKIP_REASON})`,
  // moto is a single-threaded Python server: generous limits for a loaded CI machine.
  { timeout: 60_000 },
  () => {
    let motoServer: MotoServer;
    let sandbox: AwsSandbox | undefined;
    let targets: Target[] = [];

    /**
     * The SSM documents exactly as infra/template.yaml deploys them (CloudFormation values
     * resolved), taken from a world started as the end-to-end tests start it.
     */
    let deployed: { name: string; content: string; format: "JSON" | "YAML" }[] = [];

    beforeAll(async () => {
      motoServer = await startMotoServer();
      const world = await ElevateWorld.start({ clockMode: "frozen" });
      try {
        deployed = [...world.aws.state.documents.values()]
          .map((d) => {
            const latest = d.versions[d.versions.length - 1];
            if (!latest) throw new Error(`document ${d.name} has no version`);
            return { name: d.name, content: latest.content, format: latest.format };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
      } finally {
        await world.close();
      }
    });
    afterAll(async () => {
      await sandbox?.close();
      await motoServer?.close();
    });
    beforeEach(async () => {
      await motoServer.reset();
      await sandbox?.close();
      // Real time ("following"): moto has no clock of its own, so both sides share the wall clock.
      sandbox = await startAwsSandbox({
        region: REGION,
        accountIds: [ACCOUNT],
        trustedIssuers: [{ issuerUrl: ISSUER, publicKey, kid: "conformance" }],
      });
      const sb = sandbox;
      targets = [
        { name: "sandbox", endpoint: sb.endpoint, admin: sb.rootCredentials, now: () => sb.clock.now() },
        {
          name: "moto",
          endpoint: motoServer.endpoint,
          // moto accepts any key; this one maps to its default account 123456789012.
          admin: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "conformance-secret" },
          now: () => new Date(),
        },
      ];
    });

    /** Runs `fn` against the sandbox, then moto; returns both results by name. */
    async function both<T>(fn: (t: Target) => Promise<T>): Promise<Record<TargetName, T>> {
      const out: Partial<Record<TargetName, T>> = {};
      for (const t of targets) out[t.name] = await fn(t);
      return out as Record<TargetName, T>;
    }

    const clientConfig = (t: Target, credentials: Credentials = t.admin) => ({
      region: REGION,
      endpoint: t.endpoint,
      credentials,
      maxAttempts: 1,
    });
    const iamOf = (t: Target, c?: Credentials) => new IAMClient(clientConfig(t, c));
    const stsOf = (t: Target, c?: Credentials) => new STSClient(clientConfig(t, c));
    const snsOf = (t: Target) => new SNSClient(clientConfig(t));
    const ssmOf = (t: Target) => new SSMClient(clientConfig(t));
    const schedulerOf = (t: Target) => new SchedulerClient(clientConfig(t));

    // One grant window for the whole file, so both sides get byte-identical policies.
    const windowStart = new Date(Math.floor(Date.now() / 1000) * 1000 - 600_000);
    const window = () => ({ notBefore: windowStart, notAfter: new Date(windowStart.getTime() + 2 * 3600_000) });

    describe("IAM inline policies", () => {
      it("users: Put/Get/List/Delete; documents come back URL-encoded and decode byte for byte to what was put", async () => {
        const grant = grantPolicyText({ requestId: "req-1", iamUser: "alice.smith", roleArn: ROLE_ARN, ...window() });
        // Pretty-printed, with every character URL encoders disagree on.
        const odd = JSON.stringify(
          JSON.parse(
            policy({
              Sid: "Odd",
              Effect: "Allow",
              Action: "s3:GetObject",
              Resource: "arn:aws:s3:::bucket/a b+c%d&e=f?g#h!(i)'j~k/*",
            }),
          ),
          null,
          2,
        );
        const r = await both(async (t) => {
          const iam = iamOf(t);
          await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/" }));
          await iam.send(
            new PutUserPolicyCommand({
              UserName: "alice.smith",
              PolicyName: grantPolicyName("req-1"),
              PolicyDocument: grant,
            }),
          );
          await iam.send(new PutUserPolicyCommand({ UserName: "alice.smith", PolicyName: "odd", PolicyDocument: odd }));
          const rawGrant = (
            await iam.send(new GetUserPolicyCommand({ UserName: "alice.smith", PolicyName: grantPolicyName("req-1") }))
          ).PolicyDocument as string;
          const rawOdd = (await iam.send(new GetUserPolicyCommand({ UserName: "alice.smith", PolicyName: "odd" })))
            .PolicyDocument as string;
          const names = (await iam.send(new ListUserPoliciesCommand({ UserName: "alice.smith" }))).PolicyNames;
          // Policies are sent as plain JSON: an encoded document is not a policy.
          const encodedPut = await outcome(
            iam.send(
              new PutUserPolicyCommand({
                UserName: "alice.smith",
                PolicyName: "encoded",
                PolicyDocument: encodeURIComponent(grant),
              }),
            ),
          );
          await iam.send(
            new DeleteUserPolicyCommand({ UserName: "alice.smith", PolicyName: grantPolicyName("req-1") }),
          );
          const getDeleted = await outcome(
            iam.send(new GetUserPolicyCommand({ UserName: "alice.smith", PolicyName: grantPolicyName("req-1") })),
          );
          const deleteAgain = await outcome(
            iam.send(new DeleteUserPolicyCommand({ UserName: "alice.smith", PolicyName: grantPolicyName("req-1") })),
          );
          const namesAfter = (await iam.send(new ListUserPoliciesCommand({ UserName: "alice.smith" }))).PolicyNames;
          const noUser = await outcome(iam.send(new ListUserPoliciesCommand({ UserName: "nobody" })));
          return {
            rawGrant,
            rawOdd,
            read: {
              grant: decodeURIComponent(rawGrant),
              odd: decodeURIComponent(rawOdd),
              grantParsed: parseGrantPolicy(decodeURIComponent(rawGrant)),
              oddParsed: decodePolicyDocument(rawOdd),
              names,
              namesAfter,
              encodedPut: verdict(encodedPut),
              getDeleted: verdict(getDeleted),
              deleteAgain: verdict(deleteAgain),
              noUser: verdict(noUser),
            },
          };
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        expect(r.sandbox.read).toMatchObject({
          grant,
          odd,
          names: [grantPolicyName("req-1"), "odd"],
          namesAfter: ["odd"],
          encodedPut: { name: "MalformedPolicyDocumentException", status: 400 },
          getDeleted: { name: "NoSuchEntityException", status: 404 },
          deleteAgain: { name: "NoSuchEntityException", status: 404 },
          noUser: { name: "NoSuchEntityException", status: 404 },
        });
        expect(r.sandbox.read.grantParsed).toBeDefined();
        // Both URL-encode (RFC 3986 leaves the choice for reserved characters): the sandbox as
        // encodeURIComponent does, moto as Python's urllib.parse.quote (keeps "/", escapes !'()*).
        // Our code decodes either (decodePolicyDocument, inventory's decode).
        expect(r.sandbox.rawGrant).toBe(encodeURIComponent(grant));
        expect(r.sandbox.rawOdd).toBe(encodeURIComponent(odd));
        expect(r.moto.rawGrant).toBe(pythonQuote(grant));
        expect(r.moto.rawOdd).toBe(pythonQuote(odd));
      });

      it("inline-policy and trust-policy size quotas are enforced by the sandbox; moto enforces none", async () => {
        // IAM and AWS STS quotas: inline policies of a user at most 2,048 characters in all, of a
        // role 10,240; a role trust policy 2,048 (default). Grants rely on LimitExceeded (never a
        // partial grant), and the revoker's cut-offs on the role's budget.
        const sized = (chars: number) =>
          policy({ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${"b".repeat(chars)}` });
        const trust = (chars: number) =>
          policy({
            Sid: "x".repeat(chars),
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: "sts:AssumeRole",
          });
        const r = await both(async (t) => {
          const iam = iamOf(t);
          await iam.send(new CreateUserCommand({ UserName: "alice.smith" }));
          await iam.send(new CreateRoleCommand({ RoleName: ROLE_NAME, AssumeRolePolicyDocument: trust(1) }));
          const put = (p: Promise<unknown>) => outcome(p).then(verdict);
          return {
            user: await put(
              iam.send(
                new PutUserPolicyCommand({ UserName: "alice.smith", PolicyName: "big", PolicyDocument: sized(2000) }),
              ),
            ),
            role: await put(
              iam.send(
                new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: "big", PolicyDocument: sized(10_200) }),
              ),
            ),
            trust: await put(
              iam.send(new CreateRoleCommand({ RoleName: "wide-trust", AssumeRolePolicyDocument: trust(2048) })),
            ),
            // Just under the budgets both accept.
            userFits: await put(
              iam.send(
                new PutUserPolicyCommand({ UserName: "alice.smith", PolicyName: "fits", PolicyDocument: sized(1900) }),
              ),
            ),
            roleFits: await put(
              iam.send(
                new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: "fits", PolicyDocument: sized(10_000) }),
              ),
            ),
          };
        });
        expect({ userFits: r.sandbox.userFits, roleFits: r.sandbox.roleFits }).toEqual({
          userFits: "ok",
          roleFits: "ok",
        });
        expect({ userFits: r.moto.userFits, roleFits: r.moto.roleFits }).toEqual({ userFits: "ok", roleFits: "ok" });
        expect(r.sandbox).toMatchObject({
          user: { name: "LimitExceededException", status: 409 },
          role: { name: "LimitExceededException", status: 409 },
          trust: { name: "LimitExceededException", status: 409 },
        });
        // moto 5 has no size quotas: it stores all three.
        expect(r.moto).toMatchObject({ user: "ok", role: "ok", trust: "ok" });
      });

      it("List*Policies page with MaxItems/Marker in the sandbox; moto ignores MaxItems", async () => {
        const r = await both(async (t) => {
          const iam = iamOf(t);
          await iam.send(new CreateUserCommand({ UserName: "alice.smith" }));
          const doc = policy({ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" });
          for (const name of ["elevate-a", "elevate-b", "elevate-c"]) {
            await iam.send(
              new PutUserPolicyCommand({ UserName: "alice.smith", PolicyName: name, PolicyDocument: doc }),
            );
          }
          const pages: { names: string[] | undefined; truncated: boolean | undefined }[] = [];
          let marker: string | undefined;
          do {
            const page = await iam.send(
              new ListUserPoliciesCommand({
                UserName: "alice.smith",
                MaxItems: 2,
                ...(marker ? { Marker: marker } : {}),
              }),
            );
            pages.push({ names: page.PolicyNames, truncated: page.IsTruncated });
            marker = page.IsTruncated ? page.Marker : undefined;
          } while (marker && pages.length < 5);
          // What the runbooks ask for (MaxItems 1000): everything in one page.
          const all = await iam.send(new ListUserPoliciesCommand({ UserName: "alice.smith", MaxItems: 1000 }));
          return { pages, all: { names: all.PolicyNames, truncated: all.IsTruncated } };
        });
        expect(r.sandbox.all).toEqual(r.moto.all);
        expect(r.sandbox.all).toEqual({ names: ["elevate-a", "elevate-b", "elevate-c"], truncated: false });
        expect(r.sandbox.pages).toEqual([
          { names: ["elevate-a", "elevate-b"], truncated: true },
          { names: ["elevate-c"], truncated: false },
        ]);
        // ListUserPolicies reference: MaxItems and Marker paginate; moto 5 returns every name.
        expect(r.moto.pages).toEqual([{ names: ["elevate-a", "elevate-b", "elevate-c"], truncated: false }]);
      });

      it("roles: Put/Get/List/Delete of a cut-off policy; documents come back URL-encoded", async () => {
        const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
        const cutoff = cutoffPolicyText("alice.smith", revokedAt);
        const r = await both(async (t) => {
          const iam = iamOf(t);
          await iam.send(
            new CreateRoleCommand({
              RoleName: ROLE_NAME,
              Path: "/elevated/",
              AssumeRolePolicyDocument: policy({
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
                Action: "sts:AssumeRole",
              }),
            }),
          );
          const name = cutoffPolicyName("alice.smith");
          await iam.send(new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name, PolicyDocument: cutoff }));
          // PutRolePolicy replaces a policy of the same name (the cut-off moves forward).
          await iam.send(new PutRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name, PolicyDocument: cutoff }));
          const got = await iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name }));
          const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE_NAME }))).PolicyNames;
          await iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name }));
          const getDeleted = await outcome(
            iam.send(new GetRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name })),
          );
          const deleteAgain = await outcome(
            iam.send(new DeleteRolePolicyCommand({ RoleName: ROLE_NAME, PolicyName: name })),
          );
          const noRole = await outcome(iam.send(new ListRolePoliciesCommand({ RoleName: "nope" })));
          return {
            raw: got.PolicyDocument as string,
            read: {
              roleName: got.RoleName,
              policyName: got.PolicyName,
              document: decodeURIComponent(got.PolicyDocument ?? ""),
              names,
              namesAfter: (await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE_NAME }))).PolicyNames,
              getDeleted: verdict(getDeleted),
              deleteAgain: verdict(deleteAgain),
              noRole: verdict(noRole),
            },
          };
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        expect(r.sandbox.read).toMatchObject({
          roleName: ROLE_NAME,
          document: cutoff,
          names: [cutoffPolicyName("alice.smith")],
          namesAfter: [],
          getDeleted: { name: "NoSuchEntityException", status: 404 },
          deleteAgain: { name: "NoSuchEntityException", status: 404 },
          noRole: { name: "NoSuchEntityException", status: 404 },
        });
        expect(r.sandbox.raw).toBe(encodeURIComponent(cutoff));
        expect(r.moto.raw).toBe(pythonQuote(cutoff));
      });
    });

    describe("GetAccountAuthorizationDetails and GetRole (the revoker's inventory)", () => {
      /** Three users, two roles, grants and a cut-off written by our own policy builders. */
      async function seedAccount(t: Target, revokedAt: Date): Promise<void> {
        const iam = iamOf(t);
        const w = window();
        const users: [string, string, { Key: string; Value: string }[]][] = [
          ["alice.smith", "/elevate/", [{ Key: "elevate-eligible", Value: "true" }]],
          ["bob", "/elevate/", []],
          ["carol", "/", []],
        ];
        for (const [UserName, Path, Tags] of users) {
          await iam.send(new CreateUserCommand({ UserName, Path, ...(Tags.length > 0 ? { Tags } : {}) }));
        }
        for (const [user, id] of [
          ["alice.smith", "req-1"],
          ["alice.smith", "req-2"],
          ["bob", "req-3"],
        ] as const) {
          await iam.send(
            new PutUserPolicyCommand({
              UserName: user,
              PolicyName: grantPolicyName(id),
              PolicyDocument: grantPolicyText({ requestId: id, iamUser: user, roleArn: ROLE_ARN, ...w }),
            }),
          );
        }
        await iam.send(
          new PutUserPolicyCommand({
            UserName: "carol",
            PolicyName: "handmade",
            PolicyDocument: policy({ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }),
          }),
        );
        await iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            Path: "/elevated/",
            MaxSessionDuration: 3600,
            Description: "example privileged role",
            Tags: [{ Key: "team", Value: "platform" }],
            AssumeRolePolicyDocument: policy({
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "sts:AssumeRole",
            }),
          }),
        );
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: ROLE_NAME,
            PolicyName: cutoffPolicyName("alice.smith"),
            PolicyDocument: cutoffPolicyText("alice.smith", revokedAt),
          }),
        );
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: ROLE_NAME,
            PolicyName: "work",
            PolicyDocument: policy({ Effect: "Allow", Action: "ec2:*", Resource: "*" }),
          }),
        );
        await iam.send(
          new CreateRoleCommand({
            RoleName: "elevate-automation",
            AssumeRolePolicyDocument: policy({
              Effect: "Allow",
              Principal: { Service: "ssm.amazonaws.com" },
              Action: "sts:AssumeRole",
            }),
          }),
        );
      }

      /** What a GetAccountAuthorizationDetails listing says about users and roles, decoded. */
      function normalize(pages: GetAccountAuthorizationDetailsCommandOutput[]) {
        const users = pages.flatMap((p) => p.UserDetailList ?? []);
        const roles = pages.flatMap((p) => p.RoleDetailList ?? []);
        const policies = (
          list: { PolicyName?: string | undefined; PolicyDocument?: string | undefined }[] | undefined,
        ) =>
          (list ?? [])
            .map((p) => ({ name: p.PolicyName, document: decodePolicyDocument(p.PolicyDocument ?? "") }))
            .sort((a, b) => String(a.name).localeCompare(String(b.name)));
        return {
          users: users
            .map((u) => ({
              name: u.UserName,
              path: u.Path,
              arn: u.Arn,
              tags: u.Tags ?? [],
              policies: policies(u.UserPolicyList),
            }))
            .sort((a, b) => String(a.name).localeCompare(String(b.name))),
          roles: roles
            .map((r) => ({
              name: r.RoleName,
              path: r.Path,
              arn: r.Arn,
              tags: r.Tags ?? [],
              trust: decodePolicyDocument(r.AssumeRolePolicyDocument ?? ""),
              policies: policies(r.RolePolicyList),
            }))
            .sort((a, b) => String(a.name).localeCompare(String(b.name))),
        };
      }

      it("pages with MaxItems/Marker in the sandbox; moto returns everything in one page; the union agrees", async () => {
        const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000);
        const r = await both(async (t) => {
          await seedAccount(t, revokedAt);
          const iam = iamOf(t);
          const pages: GetAccountAuthorizationDetailsCommandOutput[] = [];
          let marker: string | undefined;
          do {
            const page = await iam.send(
              new GetAccountAuthorizationDetailsCommand({
                Filter: ["User", "Role"],
                MaxItems: 2,
                ...(marker ? { Marker: marker } : {}),
              }),
            );
            pages.push(page);
            marker = page.IsTruncated ? page.Marker : undefined;
            if (pages.length > 10) throw new Error(`${t.name}: more pages than entities`);
          } while (marker);
          const onlyUsers = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ["User"] }));
          return {
            pages: pages.map((p) => ({
              entities: (p.UserDetailList?.length ?? 0) + (p.RoleDetailList?.length ?? 0),
              isTruncated: p.IsTruncated,
              hasMarker: typeof p.Marker === "string" && p.Marker !== "",
            })),
            trustRaw: pages.flatMap((p) => p.RoleDetailList ?? []).map((role) => role.AssumeRolePolicyDocument ?? ""),
            listing: normalize(pages),
            onlyUsers: { users: onlyUsers.UserDetailList?.length, roles: onlyUsers.RoleDetailList?.length ?? 0 },
          };
        });
        expect(r.sandbox.listing).toEqual(r.moto.listing);
        expect(r.sandbox.listing.users.map((u) => u.name)).toEqual(["alice.smith", "bob", "carol"]);
        expect(r.sandbox.listing.users[0]?.tags).toEqual([{ Key: "elevate-eligible", Value: "true" }]);
        expect(r.sandbox.listing.roles.map((x) => x.name)).toEqual([ROLE_NAME, "elevate-automation"]);
        expect(r.sandbox.onlyUsers).toEqual(r.moto.onlyUsers);
        expect(r.sandbox.onlyUsers).toEqual({ users: 3, roles: 0 });

        // AWS: "You can paginate the results using the MaxItems and Marker parameters";
        // IsTruncated with a Marker until the last page. The sandbox pages 5 entities by 2.
        expect(r.sandbox.pages).toEqual([
          { entities: 2, isTruncated: true, hasMarker: true },
          { entities: 2, isTruncated: true, hasMarker: true },
          { entities: 1, isTruncated: false, hasMarker: false },
        ]);
        // moto 5 ignores MaxItems and Marker here (always IsTruncated=false): wrong, but our
        // reader loops on IsTruncated/Marker and so reads both correctly.
        expect(r.moto.pages).toEqual([{ entities: 5, isTruncated: false, hasMarker: false }]);

        // AWS: "Policies returned by this operation are URL-encoded compliant with RFC 3986",
        // trust policies included. moto returns RoleDetail.AssumeRolePolicyDocument as plain
        // JSON (wrong); our code does not read it, and decodePolicyDocument takes either.
        for (const raw of r.sandbox.trustRaw) expect(raw).toMatch(/^%7B/);
        for (const raw of r.moto.trustRaw) expect(raw).toMatch(/^\{/);
      });

      it("the revoker's inventory (readAuthorizationDetails + buildInventory + GetRole) is the same on both", async () => {
        // Two hours old: older than a role's shortest maximum session, so the revoker reads the
        // role's MaxSessionDuration with GetRole to know whether the cut-off is still needed.
        const revokedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 3600_000);
        const r = await both(async (t) => {
          await seedAccount(t, revokedAt);
          const iam = iamOf(t);
          const details = await readAuthorizationDetails(iam, ["User", "Role"]);
          const read = await readInventory(iam, ACCOUNT, t.now());
          return {
            calls: details.calls,
            listingCalls: read.listingCalls,
            getRoleCalls: read.getRoleCalls,
            grants: [...read.inventory.grants].sort((a, b) => a.policyName.localeCompare(b.policyName)),
            cutoffs: read.inventory.cutoffs,
            roles: [...read.inventory.roles.values()].sort((a, b) => a.arn.localeCompare(b.arn)),
          };
        });
        expect(r.sandbox).toEqual(r.moto);
        expect(r.sandbox.grants.map((g) => [g.iamUser, g.requestId, g.policy !== undefined])).toEqual([
          ["alice.smith", "req-1", true],
          ["alice.smith", "req-2", true],
          ["bob", "req-3", true],
        ]);
        expect(r.sandbox.cutoffs).toEqual([
          {
            roleArn: ROLE_ARN,
            roleName: ROLE_NAME,
            policyName: cutoffPolicyName("alice.smith"),
            iamUser: "alice.smith",
            revokedAt,
          },
        ]);
        expect(r.sandbox.getRoleCalls).toBe(1);
        expect(r.sandbox.roles.find((x) => x.arn === ROLE_ARN)?.maxSessionDurationSeconds).toBe(3600);
      });

      it("GetRole: what the product and the stack read agrees; a missing role is NoSuchEntity", async () => {
        const r = await both(async (t) => {
          await seedAccount(t, new Date());
          const iam = iamOf(t);
          const role = (await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME }))).Role;
          const missing = await outcome(iam.send(new GetRoleCommand({ RoleName: "nope" })));
          return {
            rawTrust: role?.AssumeRolePolicyDocument ?? "",
            roleId: role?.RoleId ?? "",
            read: {
              name: role?.RoleName,
              path: role?.Path,
              arn: role?.Arn,
              description: role?.Description,
              maxSessionDuration: role?.MaxSessionDuration,
              tags: role?.Tags,
              trust: decodePolicyDocument(role?.AssumeRolePolicyDocument ?? ""),
              createDate: role?.CreateDate instanceof Date,
              missing: verdict(missing),
            },
          };
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        expect(r.sandbox.read).toMatchObject({
          arn: ROLE_ARN,
          maxSessionDuration: 3600,
          createDate: true,
          missing: { name: "NoSuchEntityException", status: 404 },
        });
        for (const t of ["sandbox", "moto"] as const) {
          expect(r[t].rawTrust).toMatch(/^%7B/);
          expect(r[t].roleId).toMatch(/^AROA[A-Z0-9]{17}$/);
        }
      });
    });

    describe("STS", () => {
      async function seedAssumableRole(t: Target, maxSessionDuration: number): Promise<{ roleId: string }> {
        const iam = iamOf(t);
        const role = await iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            Path: "/elevated/",
            MaxSessionDuration: maxSessionDuration,
            AssumeRolePolicyDocument: policy({
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "sts:AssumeRole",
            }),
          }),
        );
        return { roleId: role.Role?.RoleId ?? "" };
      }

      /** Credential shape and lifetime as our code reads them; `issuedAt` is the target's clock. */
      function readCredentials(
        c:
          | {
              AccessKeyId?: string | undefined;
              SecretAccessKey?: string | undefined;
              SessionToken?: string | undefined;
              Expiration?: Date | undefined;
            }
          | undefined,
        issuedAt: Date,
        expectedSeconds: number,
      ) {
        return {
          accessKeyId: /^ASIA[A-Z0-9]{16}$/.test(c?.AccessKeyId ?? ""),
          secretAccessKey: c?.SecretAccessKey?.length,
          sessionToken: (c?.SessionToken?.length ?? 0) > 0,
          expiration: c?.Expiration instanceof Date,
          lifetimeSeconds: lifetimeSeconds(c?.Expiration, issuedAt, expectedSeconds),
        };
      }

      it("AssumeRole: credentials, Expiration = now + DurationSeconds (default 3600), AssumedRoleUser", async () => {
        const r = await both(async (t) => {
          const { roleId } = await seedAssumableRole(t, 3600);
          const iam = iamOf(t);
          await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/" }));
          await iam.send(
            new PutUserPolicyCommand({
              UserName: "alice.smith",
              PolicyName: "assume",
              PolicyDocument: policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: ROLE_ARN }),
            }),
          );
          const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "alice.smith" }))).AccessKey;
          const sts = stsOf(t, { accessKeyId: key?.AccessKeyId ?? "", secretAccessKey: key?.SecretAccessKey ?? "" });
          const assume = async (DurationSeconds?: number) => {
            const issuedAt = t.now();
            const out = await sts.send(
              new AssumeRoleCommand({
                RoleArn: ROLE_ARN,
                RoleSessionName: "alice.smith",
                ...(DurationSeconds ? { DurationSeconds } : {}),
              }),
            );
            return { out, issuedAt };
          };
          const short = await assume(900);
          const byDefault = await assume();
          const c = short.out.Credentials;
          const session = stsOf(t, {
            accessKeyId: c?.AccessKeyId ?? "",
            secretAccessKey: c?.SecretAccessKey ?? "",
            sessionToken: c?.SessionToken ?? "",
          });
          const caller = await session.send(new GetCallerIdentityCommand({}));
          return {
            roleId,
            assumedRoleId: short.out.AssumedRoleUser?.AssumedRoleId,
            read: {
              short: readCredentials(short.out.Credentials, short.issuedAt, 900),
              byDefault: readCredentials(byDefault.out.Credentials, byDefault.issuedAt, 3600),
              assumedRoleArn: short.out.AssumedRoleUser?.Arn,
              caller: { arn: caller.Arn, account: caller.Account },
            },
            tooLong: verdict(await outcome(assume(7200))),
            tooShort: verdict(await outcome(assume(60))),
          };
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/alice.smith`;
        expect(r.sandbox.read).toEqual({
          short: { accessKeyId: true, secretAccessKey: 40, sessionToken: true, expiration: true, lifetimeSeconds: 900 },
          byDefault: {
            accessKeyId: true,
            secretAccessKey: 40,
            sessionToken: true,
            expiration: true,
            lifetimeSeconds: 3600,
          },
          // The role path is not part of the session ARN.
          assumedRoleArn: sessionArn,
          caller: { arn: sessionArn, account: ACCOUNT },
        });
        for (const t of ["sandbox", "moto"] as const) expect(r[t].assumedRoleId).toBe(`${r[t].roleId}:alice.smith`);
        // AssumeRole reference: DurationSeconds "can have a value from 900 seconds (15 minutes) up to the
        // maximum session duration setting for the role"; beyond it, ValidationError. moto 5 does not
        // check DurationSeconds at all and issues credentials for any value.
        expect(r.sandbox.tooLong).toEqual({ name: "ValidationError", status: 400 });
        expect(r.sandbox.tooShort).toEqual({ name: "ValidationError", status: 400 });
        expect(r.moto.tooLong).toBe("ok");
        expect(r.moto.tooShort).toBe("ok");
      });

      it("AssumeRoleWithWebIdentity as the action calls it: credentials and Expiration agree", async () => {
        const r = await both(async (t) => {
          const iam = iamOf(t);
          await iam.send(
            new CreateOpenIDConnectProviderCommand({
              Url: ISSUER,
              ClientIDList: ["sts.amazonaws.com"],
              ThumbprintList: ["6938fd4d98bab03faadb97b34396831e3780aea1"],
            }),
          );
          const role = await iam.send(
            new CreateRoleCommand({
              RoleName: "elevate-grant",
              MaxSessionDuration: 3600,
              AssumeRolePolicyDocument: policy({
                Effect: "Allow",
                Principal: { Federated: PROVIDER_ARN },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" } },
              }),
            }),
          );
          const nowSec = Math.floor(t.now().getTime() / 1000);
          const token = signJwt({
            iss: ISSUER,
            aud: "sts.amazonaws.com",
            sub: "repo:acme/elevate:ref:refs/heads/main",
            iat: nowSec - 5,
            nbf: nowSec - 5,
            exp: nowSec + 300,
          });
          const roleArn = `arn:aws:iam::${ACCOUNT}:role/elevate-grant`;
          // The product's own call (src/adapters/aws.ts), reaching the target the way the
          // action reaches the sandbox: through the SDK's AWS_ENDPOINT_URL_STS.
          const saved = process.env.AWS_ENDPOINT_URL_STS;
          process.env.AWS_ENDPOINT_URL_STS = t.endpoint;
          try {
            const issuedAt = t.now();
            const product = await assumeRoleWithWebIdentity({
              region: REGION,
              roleArn,
              webIdentityToken: token,
              sessionName: "elevate-grant-1",
              durationSeconds: 3600,
            });
            const unsigned = new STSClient({
              region: REGION,
              endpoint: t.endpoint,
              maxAttempts: 1,
              credentials: { accessKeyId: "", secretAccessKey: "" },
              signer: { sign: async (request) => request },
            });
            const raw = await unsigned.send(
              new AssumeRoleWithWebIdentityCommand({
                RoleArn: roleArn,
                RoleSessionName: "elevate-grant-1",
                WebIdentityToken: token,
              }),
            );
            const tooLong = await outcome(
              unsigned.send(
                new AssumeRoleWithWebIdentityCommand({
                  RoleArn: roleArn,
                  RoleSessionName: "elevate-grant-1",
                  WebIdentityToken: token,
                  DurationSeconds: 7200,
                }),
              ),
            );
            // The action's session (openRoleSession) asks for 7,200 s and, when STS refuses with
            // a ValidationError naming MaxSessionDuration, settles for 3,600 s and warns.
            const warnings: string[] = [];
            const session = await openRoleSession({
              region: REGION,
              roleArn,
              sessionName: "elevate-grant-1",
              durationSeconds: 7200,
              webIdentityToken: async () => token,
              onShortSession: (message) => warnings.push(message),
            });
            const sessionCredentials = await session();
            return {
              roleId: role.Role?.RoleId,
              raw,
              tooLong: verdict(tooLong),
              tooLongMessage: tooLong.ok ? "" : tooLong.message,
              session: {
                credentials: /^ASIA[A-Z0-9]{16}$/.test(sessionCredentials.accessKeyId),
                shortSessionWarnings: warnings.length,
              },
              read: {
                product: {
                  accessKeyId: /^ASIA[A-Z0-9]{16}$/.test(product.accessKeyId),
                  secretAccessKey: product.secretAccessKey.length,
                  sessionToken: (product.sessionToken?.length ?? 0) > 0,
                  lifetimeSeconds: lifetimeSeconds(product.expiration, issuedAt, 3600),
                },
                assumedRoleArn: raw.AssumedRoleUser?.Arn,
              },
            };
          } finally {
            if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
            else process.env.AWS_ENDPOINT_URL_STS = saved;
          }
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        expect(r.sandbox.read).toEqual({
          product: { accessKeyId: true, secretAccessKey: 40, sessionToken: true, lifetimeSeconds: 3600 },
          assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-grant/elevate-grant-1`,
        });
        // AssumeRoleWithWebIdentity reference: AssumedRoleId is "<role id>:<session name>" and the
        // response carries SubjectFromWebIdentityToken, Provider and Audience. moto 5 answers a fixed
        // "ARO123EXAMPLE123" role id and omits the three (wrong); our code reads none of them.
        expect(r.sandbox.raw.AssumedRoleUser?.AssumedRoleId).toBe(`${r.sandbox.roleId}:elevate-grant-1`);
        expect(r.sandbox.raw).toMatchObject({
          SubjectFromWebIdentityToken: "repo:acme/elevate:ref:refs/heads/main",
          Provider: ISSUER,
          Audience: "sts.amazonaws.com",
        });
        expect(r.moto.raw.AssumedRoleUser?.AssumedRoleId).toBe("ARO123EXAMPLE123:elevate-grant-1");
        expect(r.moto.raw.SubjectFromWebIdentityToken).toBeUndefined();
        // Beyond the role's MaxSessionDuration: ValidationError (AWS); moto issues credentials.
        expect(r.sandbox.tooLong).toEqual({ name: "ValidationError", status: 400 });
        // AWS's wording, which openRoleSession's fallback recognizes.
        expect(r.sandbox.tooLongMessage).toBe(
          "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        );
        expect(r.sandbox.session).toEqual({ credentials: true, shortSessionWarnings: 1 });
        expect(r.moto.tooLong).toBe("ok");
        // So against moto the action never falls back: it gets the 7,200-s session it asked for.
        expect(r.moto.session).toEqual({ credentials: true, shortSessionWarnings: 0 });
      });
    });

    describe("the Date header (AWS's clock for the revoker)", () => {
      it("every service's answers, errors included, carry an IMF-fixdate Date that AwsClock reads", async () => {
        const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
        const r = await both(async (t) => {
          const seen: Record<string, { format: boolean; clockKnown: boolean; agreesWithin5s: boolean }> = {};
          const probe = async (label: string, client: { middlewareStack: unknown }, call: () => Promise<unknown>) => {
            const clock = new AwsClock();
            observeAwsTime(client, clock);
            let header: string | undefined;
            (
              client.middlewareStack as {
                add(
                  m: (next: (a: unknown) => Promise<{ response: unknown }>) => (a: unknown) => Promise<unknown>,
                  o: object,
                ): void;
              }
            ).add(
              (next) => async (args) => {
                try {
                  const out = await next(args);
                  header = (out.response as { headers: Record<string, string> }).headers.date;
                  return out;
                } catch (error) {
                  header = (error as { $response?: { headers: Record<string, string> } }).$response?.headers.date;
                  throw error;
                }
              },
              { step: "deserialize", name: "conformanceDate", override: true },
            );
            await outcome(call());
            seen[label] = {
              format: IMF_FIXDATE.test(header ?? ""),
              clockKnown: clock.known,
              // AwsClock's estimate of the target's time: whole seconds, a lower bound.
              agreesWithin5s: clock.known && Math.abs(clock.skewOf(t.now())) <= 5000,
            };
          };
          const iam = iamOf(t);
          await probe("iam ok", iam, () => iam.send(new CreateUserCommand({ UserName: "alice.smith" })));
          await probe("iam error", iam, () => iam.send(new GetRoleCommand({ RoleName: "nope" })));
          const sts = stsOf(t);
          await probe("sts ok", sts, () => sts.send(new GetCallerIdentityCommand({})));
          const sns = snsOf(t);
          await probe("sns ok", sns, () => sns.send(new CreateTopicCommand({ Name: "Elevate" })));
          const ssm = ssmOf(t);
          await probe("ssm error", ssm, () => ssm.send(new DescribeDocumentCommand({ Name: "Nope-Document" })));
          return seen;
        });
        expect(r.sandbox).toEqual(r.moto);
        for (const label of ["iam ok", "iam error", "sts ok", "sns ok", "ssm error"]) {
          expect(r.sandbox[label], label).toEqual({ format: true, clockKnown: true, agreesWithin5s: true });
        }
      });
    });

    describe("SNS Publish", () => {
      it("publishes what our notifications send; Subject must be under 100 characters without control characters", async () => {
        const r = await both(async (t) => {
          const sns = snsOf(t);
          const topicArn = (await sns.send(new CreateTopicCommand({ Name: "Elevate" }))).TopicArn ?? "";
          const publish = (Subject: string) =>
            outcome(sns.send(new PublishCommand({ TopicArn: topicArn, Subject, Message: "{}" })));
          // The product's publisher with a subject it must make valid (too long, non-ASCII).
          const messageId = await publishNotification(sns, {
            topicArn,
            subject: `Elevate: granted ${"é".repeat(150)}`,
            message: JSON.stringify({ schema: "elevate.notification/v1" }),
          });
          return {
            topicArn,
            messageId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(messageId ?? ""),
            subject99: verdict(await publish("S".repeat(99))),
            subject100: verdict(await publish("S".repeat(100))),
            subjectNewline: verdict(await publish("two\nlines")),
            noTopic: verdict(
              await outcome(
                sns.send(new PublishCommand({ TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:Nope`, Message: "x" })),
              ),
            ),
          };
        });
        const { subject100: s100, subjectNewline: sNl, ...sandboxRest } = r.sandbox;
        const { subject100: m100, subjectNewline: mNl, ...motoRest } = r.moto;
        expect(sandboxRest).toEqual(motoRest);
        expect(sandboxRest).toEqual({
          topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:Elevate`,
          messageId: true,
          subject99: "ok",
          noTopic: { name: "NotFoundException", status: 404 },
        });
        // Publish reference: "Subjects must be UTF-8 text with no line breaks or control characters,
        // and less than 100 characters long." The sandbox rejects both; moto 5 accepts a
        // 100-character subject (it checks > 100) and line breaks.
        expect(s100).toEqual({ name: "InvalidParameterException", status: 400 });
        expect(sNl).toEqual({ name: "InvalidParameterException", status: 400 });
        expect(m100).toBe("ok");
        expect(mNl).toBe("ok");
      });
    });

    describe("EventBridge Scheduler (the grant's own end)", () => {
      const TARGET = "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution";
      const oneTime = (Name: string, at: string) =>
        new CreateScheduleCommand({
          Name,
          GroupName: "elevate",
          ScheduleExpression: `at(${at})`,
          ScheduleExpressionTimezone: "UTC",
          FlexibleTimeWindow: { Mode: "OFF" },
          ActionAfterCompletion: "DELETE",
          Target: {
            Arn: TARGET,
            RoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-scheduler`,
            Input: JSON.stringify({ DocumentName: "Elevate-Revoke", Parameters: { RequestId: ["req-1"] } }),
          },
        });

      it("one-time schedules: create, read, list, delete, and the errors, agree", async () => {
        const r = await both(async (t) => {
          const scheduler = schedulerOf(t);
          const group = await scheduler.send(new CreateScheduleGroupCommand({ Name: "elevate" }));
          // Far in the future: the sandbox fires due schedules, moto never does.
          const created = await scheduler.send(oneTime("elevate-req-1", "2030-11-30T11:00:00"));
          await scheduler.send(oneTime("elevate-req-2", "2030-11-30T12:00:00"));
          const duplicate = await outcome(scheduler.send(oneTime("elevate-req-1", "2030-11-30T11:00:00")));
          const got = await scheduler.send(new GetScheduleCommand({ Name: "elevate-req-1", GroupName: "elevate" }));
          const listed = await scheduler.send(
            new ListSchedulesCommand({ GroupName: "elevate", NamePrefix: "elevate-" }),
          );
          await scheduler.send(new DeleteScheduleCommand({ Name: "elevate-req-1", GroupName: "elevate" }));
          const getDeleted = await outcome(
            scheduler.send(new GetScheduleCommand({ Name: "elevate-req-1", GroupName: "elevate" })),
          );
          const deleteAgain = await outcome(
            scheduler.send(new DeleteScheduleCommand({ Name: "elevate-req-1", GroupName: "elevate" })),
          );
          const noGroup = await outcome(
            scheduler.send(
              new CreateScheduleCommand({
                ...oneTime("elevate-req-3", "2030-11-30T11:00:00").input,
                GroupName: "nope",
              }),
            ),
          );
          return {
            groupArn: group.ScheduleGroupArn,
            scheduleArn: created.ScheduleArn,
            errors: { duplicate: verdict(duplicate), noGroup: verdict(noGroup) },
            retryPolicy: got.Target?.RetryPolicy,
            got: {
              Arn: got.Arn,
              Name: got.Name,
              GroupName: got.GroupName,
              ScheduleExpression: got.ScheduleExpression,
              ScheduleExpressionTimezone: got.ScheduleExpressionTimezone,
              State: got.State,
              ActionAfterCompletion: got.ActionAfterCompletion,
              FlexibleTimeWindow: got.FlexibleTimeWindow,
              Target: { Arn: got.Target?.Arn, RoleArn: got.Target?.RoleArn, Input: got.Target?.Input },
            },
            listedOrder: listed.Schedules?.map((x) => x.Name),
            // ListSchedules documents no order: compared by name.
            listed: listed.Schedules?.map((x) => ({
              Name: x.Name,
              GroupName: x.GroupName,
              State: x.State,
              Target: x.Target,
            })).sort((a, b) => String(a.Name).localeCompare(String(b.Name))),
            getDeleted: verdict(getDeleted),
            deleteAgain: verdict(deleteAgain),
          };
        });
        const {
          errors: sandboxErrors,
          retryPolicy: sandboxRetry,
          listedOrder: sandboxOrder,
          ...sandboxRead
        } = r.sandbox;
        const { errors: motoErrors, retryPolicy: motoRetry, listedOrder: motoOrder, ...motoRead } = r.moto;
        expect(sandboxRead).toEqual(motoRead);
        expect(sandboxRead).toMatchObject({
          groupArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/elevate`,
          scheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/elevate/elevate-req-1`,
          got: { ScheduleExpression: "at(2030-11-30T11:00:00)", ActionAfterCompletion: "DELETE", State: "ENABLED" },
          getDeleted: { name: "ResourceNotFoundException", status: 404 },
          deleteAgain: { name: "ResourceNotFoundException", status: 404 },
        });
        // CreateSchedule reference: ConflictException is HTTP 409, ResourceNotFoundException (a
        // group that does not exist) 404. moto 5 answers the conflict with 400 and fails the
        // missing group with a non-JSON 500.
        expect(sandboxErrors).toEqual({
          duplicate: { name: "ConflictException", status: 409 },
          noGroup: { name: "ResourceNotFoundException", status: 404 },
        });
        expect(motoErrors.duplicate).toEqual({ name: "ConflictException", status: 400 });
        expect(motoErrors.noGroup).toMatchObject({ status: 500 });
        // Not read by our code: moto echoes a default RetryPolicy the request did not set (the API
        // reference documents no default in GetSchedule's answer); the sandbox returns none.
        expect(sandboxRetry).toBeUndefined();
        expect(motoRetry).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
        // Order of ListSchedules: the sandbox by name, moto newest first; the reference promises none.
        expect(sandboxOrder).toEqual(["elevate-req-1", "elevate-req-2"]);
        expect(motoOrder).toEqual(["elevate-req-2", "elevate-req-1"]);
      });
    });

    describe("SSM documents", () => {
      /** The fields of a DocumentDescription our stack and tests rely on. */
      const described = (d: DocumentDescription | undefined) => ({
        name: d?.Name,
        documentVersion: d?.DocumentVersion,
        latestVersion: d?.LatestVersion,
        defaultVersion: d?.DefaultVersion,
        documentType: d?.DocumentType,
        documentFormat: d?.DocumentFormat,
        schemaVersion: d?.SchemaVersion,
        status: d?.Status,
        hash: d?.Hash,
        hashType: d?.HashType,
        description: d?.Description,
        parameters: (d?.Parameters ?? []).map((p) => ({ name: p.Name, type: p.Type, default: p.DefaultValue })),
      });

      it("every runbook in infra/runbooks is deployed by the template, so all of them are compared", () => {
        const files = readdirSync(RUNBOOK_DIR).filter((f) => f.endsWith(".yaml"));
        expect(files.length).toBeGreaterThan(0);
        expect(deployed.length).toBe(files.length);
      });

      it("CreateDocument of every deployed runbook describes the same document", async () => {
        const r = await both(async (t) => {
          const ssm = ssmOf(t);
          const out: Record<string, ReturnType<typeof described>> = {};
          for (const doc of deployed) {
            const created = await ssm.send(
              new CreateDocumentCommand({
                Name: doc.name,
                Content: doc.content,
                DocumentType: "Automation",
                DocumentFormat: doc.format,
              }),
            );
            out[doc.name] = described(created.DocumentDescription);
          }
          return out;
        });
        expect(r.sandbox).toEqual(r.moto);
        for (const doc of deployed) {
          expect(r.sandbox[doc.name]).toMatchObject({
            name: doc.name,
            documentVersion: "1",
            latestVersion: "1",
            defaultVersion: "1",
            documentType: "Automation",
            documentFormat: doc.format,
            schemaVersion: "0.3",
            status: "Active",
            hashType: "Sha256",
          });
        }
      });

      it("UpdateDocument adds versions; DocumentVersion, LatestVersion and DefaultVersion agree", async () => {
        const grant = deployed.find((d) => d.name === "Elevate-Grant");
        if (!grant) throw new Error("the template deploys no Elevate-Grant document");
        // As YAML, to round-trip the format as well.
        const v1 = toYaml(grant.format === "JSON" ? JSON.parse(grant.content) : parseYaml(grant.content));
        const v2 = `${v1}# version 2\n`;
        const r = await both(async (t) => {
          const ssm = ssmOf(t);
          const Name = "Elevate-Grant";
          await ssm.send(
            new CreateDocumentCommand({ Name, Content: v1, DocumentType: "Automation", DocumentFormat: "YAML" }),
          );
          const updated = await ssm.send(
            new UpdateDocumentCommand({ Name, Content: v2, DocumentFormat: "YAML", DocumentVersion: "$LATEST" }),
          );
          const duplicate = await outcome(
            ssm.send(
              new UpdateDocumentCommand({ Name, Content: v1, DocumentFormat: "YAML", DocumentVersion: "$LATEST" }),
            ),
          );
          const byDefault = await ssm.send(new DescribeDocumentCommand({ Name }));
          const latest = await ssm.send(new DescribeDocumentCommand({ Name, DocumentVersion: "$LATEST" }));
          // What the action reads of a runbook (the version it starts), before the default moves.
          const productRead = await readDocumentContent(ssm, Name);
          const content2 = await ssm.send(
            new GetDocumentCommand({ Name, DocumentVersion: "2", DocumentFormat: "YAML" }),
          );
          const content1 = await ssm.send(
            new GetDocumentCommand({ Name, DocumentVersion: "1", DocumentFormat: "YAML" }),
          );
          const promoted = await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name, DocumentVersion: "2" }));
          const afterPromotion = await ssm.send(new DescribeDocumentCommand({ Name }));
          // No DocumentFormat: "JSON is the default format" (GetDocument reference).
          const asDefaultFormat = await ssm.send(new GetDocumentCommand({ Name }));
          const noVersion = await outcome(ssm.send(new GetDocumentCommand({ Name, DocumentVersion: "9" })));
          const noDocument = await outcome(ssm.send(new GetDocumentCommand({ Name: "Nope-Document" })));
          return {
            noVersion: verdict(noVersion),
            read: {
              updated: described(updated.DocumentDescription),
              duplicate: verdict(duplicate),
              byDefault: described(byDefault.Document),
              latest: described(latest.Document),
              productRead,
              content2: {
                version: content2.DocumentVersion,
                format: content2.DocumentFormat,
                same: content2.Content === v2,
              },
              content1: { version: content1.DocumentVersion, same: content1.Content === v1 },
              promoted: promoted.Description,
              afterPromotion: described(afterPromotion.Document),
              defaultFormat: {
                version: asDefaultFormat.DocumentVersion,
                format: asDefaultFormat.DocumentFormat,
                content: JSON.parse(asDefaultFormat.Content ?? "null"),
              },
              noDocument: verdict(noDocument),
            },
          };
        });
        expect(r.sandbox.read).toEqual(r.moto.read);
        expect(r.sandbox.read).toMatchObject({
          updated: { documentVersion: "2", latestVersion: "2", defaultVersion: "1" },
          duplicate: { name: "DuplicateDocumentContent", status: 400 },
          byDefault: { documentVersion: "1", latestVersion: "2", defaultVersion: "1" },
          latest: { documentVersion: "2", latestVersion: "2", defaultVersion: "1" },
          productRead: parseYaml(v2),
          content2: { version: "2", format: "YAML", same: true },
          content1: { version: "1", same: true },
          promoted: { Name: "Elevate-Grant", DefaultVersion: "2" },
          afterPromotion: { documentVersion: "2", latestVersion: "2", defaultVersion: "2" },
          defaultFormat: { version: "2", format: "JSON", content: parseYaml(v2) },
          noDocument: { name: "InvalidDocument", status: 400 },
        });
        // GetDocument reference lists InvalidDocumentVersion ("The document version isn't valid or
        // doesn't exist") for an unknown version; moto 5 answers InvalidDocument.
        expect(r.sandbox.noVersion).toEqual({ name: "InvalidDocumentVersion", status: 400 });
        expect(r.moto.noVersion).toEqual({ name: "InvalidDocument", status: 400 });
      });
    });

    describe("SSM Automation executions", () => {
      it("are not implemented by moto 5, so the sandbox engine has no second implementation to compare with", async () => {
        // StartAutomationExecution, GetAutomationExecution and DescribeAutomationExecutions are
        // pinned by the sandbox's own tests against the SSM API reference
        // (test/e2e/sandbox-aws-ssm.test.ts). When a moto release implements them, this fails:
        // compare them here then.
        const statuses: Record<string, string> = {};
        for (const action of ["StartAutomationExecution", "GetAutomationExecution", "DescribeAutomationExecutions"]) {
          const res = await fetch(motoServer.endpoint, {
            method: "POST",
            headers: {
              "content-type": "application/x-amz-json-1.1",
              "x-amz-target": `AmazonSSM.${action}`,
              authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/${REGION}/ssm/aws4_request, SignedHeaders=host, Signature=0`,
            },
            body: JSON.stringify(
              action === "StartAutomationExecution"
                ? { DocumentName: "Elevate-Grant" }
                : action === "GetAutomationExecution"
                  ? { AutomationExecutionId: "00000000-0000-0000-0000-000000000000" }
                  : {},
            ),
          });
          const body = await res.text();
          statuses[action] = `${res.status} ${/^<!doctype html>/i.test(body) ? "html" : body.slice(0, 80)}`;
        }
        // moto 5 fails them with an HTML "500 Internal Server Error" (NotImplementedError inside).
        expect(statuses).toEqual({
          StartAutomationExecution: "500 html",
          GetAutomationExecution: "500 html",
          DescribeAutomationExecutions: "500 html",
        });
      });
    });

    describe("the runbooks' aws:executeAwsApi calls", () => {
      /** Sample values for every runbook parameter a step interpolates. */
      const now = new Date(Math.floor(Date.now() / 1000) * 1000);
      const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
      const RUNBOOK_PARAMETERS: Record<string, string> = {
        AutomationAssumeRole: `arn:aws:iam::${ACCOUNT}:role/elevate-automation`,
        RequestId: "req-1",
        UserName: "alice.smith",
        RoleArn: ROLE_ARN,
        RoleName: ROLE_NAME,
        NotBefore: iso(new Date(now.getTime() - 600_000)),
        NotAfter: iso(new Date(now.getTime() + 3600_000)),
        RevokedAt: iso(now),
        CutOff: "true",
        // Automation's built-in variables.
        "global:ACCOUNT_ID": ACCOUNT,
        "global:REGION": REGION,
        "global:AWS_PARTITION": "aws",
        "automation:EXECUTION_ID": "00000000-0000-4000-8000-000000000000",
      };
      const SERVICES: Record<
        string,
        { client: new (config: object) => { send(c: unknown): Promise<unknown> }; module: Record<string, unknown> }
      > = {
        iam: { client: IAMClient, module: iamSdk as unknown as Record<string, unknown> },
        sts: { client: STSClient, module: stsSdk as unknown as Record<string, unknown> },
        sns: { client: SNSClient, module: snsSdk as unknown as Record<string, unknown> },
        ssm: { client: SSMClient, module: ssmSdk as unknown as Record<string, unknown> },
        scheduler: { client: SchedulerClient, module: schedulerSdk as unknown as Record<string, unknown> },
      };

      interface Step {
        name: string;
        action: string;
        inputs?: Record<string, unknown>;
        outputs?: { Name: string; Selector: string; Type: string }[];
      }

      /** The aws:executeAwsApi steps of each deployed runbook, in document order. */
      const runbooks = () =>
        deployed
          .map((d) => {
            const doc = (d.format === "JSON" ? JSON.parse(d.content) : parseYaml(d.content)) as { mainSteps: Step[] };
            // Identity Center calls need an instance and a user on both sides: the same GetUserId
            // is compared in moto-identity-center.test.ts.
            const identityCenter = (step: Step) => /^(identitystore|sso-admin)$/i.test(String(step.inputs?.Service));
            // moto implements no SSM Automation execution ("SSM Automation executions" above), so the member-account
            // starts (StartAutomationExecution with TargetLocations) have no second implementation;
            // test/e2e/sandbox-aws-multi-account.test.ts pins them against AWS's documented shape.
            const automationStart = (step: Step) =>
              /^ssm$/i.test(String(step.inputs?.Service)) &&
              /^StartAutomationExecution$/i.test(String(step.inputs?.Api));
            return {
              name: d.name,
              steps: doc.mainSteps.filter(
                (step) => step.action === "aws:executeAwsApi" && !identityCenter(step) && !automationStart(step),
              ),
            };
          })
          .filter((r) => r.steps.length > 0);

      /**
       * Interpolates `{{ Parameter }}` and `{{ step.Output }}`. An output of an earlier
       * aws:executeAwsApi step is the value that step returned on this target; an output of a
       * step that is not compared here (aws:executeScript) takes the sample value of its name
       * (`{{ stampCutOff.RevokedAt }}` -> RevokedAt).
       */
      function render(value: unknown, where: string, stepOutputs: Map<string, unknown>): unknown {
        if (typeof value === "string") {
          return value.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, (_, name: string) => {
            const fromStep = stepOutputs.get(name);
            if (typeof fromStep === "string") return fromStep;
            const dot = name.indexOf(".");
            const v =
              RUNBOOK_PARAMETERS[name] ??
              (dot > 0 && !name.includes(":") ? RUNBOOK_PARAMETERS[name.slice(dot + 1)] : undefined);
            if (v === undefined)
              throw new Error(`${where} uses {{ ${name} }}: give it a sample value in RUNBOOK_PARAMETERS`);
            return v;
          });
        }
        if (Array.isArray(value)) return value.map((v) => render(v, where, stepOutputs));
        if (value && typeof value === "object") {
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, where, stepOutputs)]));
        }
        return value;
      }

      /** A user holding a grant and a role holding that user's cut-off: what the runbooks work on. */
      async function seed(t: Target): Promise<void> {
        const iam = iamOf(t);
        await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/" }));
        await iam.send(
          new PutUserPolicyCommand({
            UserName: "alice.smith",
            PolicyName: grantPolicyName("req-1"),
            PolicyDocument: grantPolicyText({
              requestId: "req-1",
              iamUser: "alice.smith",
              roleArn: ROLE_ARN,
              ...window(),
            }),
          }),
        );
        await iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            Path: "/elevated/",
            AssumeRolePolicyDocument: policy({
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "sts:AssumeRole",
            }),
          }),
        );
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: ROLE_NAME,
            PolicyName: cutoffPolicyName("alice.smith"),
            PolicyDocument: cutoffPolicyText("alice.smith", now),
          }),
        );
      }

      it("each call, in document order, answers the same outcome and outputs on both", async () => {
        const books = runbooks();
        // The grant, revoke and cut-off runbooks call IAM; the approval gate calls nothing.
        expect(books.map((b) => b.name)).toEqual(
          expect.arrayContaining(["Elevate-Grant", "Elevate-Revoke", "Elevate-ClearCutoff"]),
        );
        for (const { name, steps } of books) {
          await motoServer.reset();
          await sandbox?.close();
          sandbox = await startAwsSandbox({ region: REGION, accountIds: [ACCOUNT] });
          const sb = sandbox;
          targets[0] = { name: "sandbox", endpoint: sb.endpoint, admin: sb.rootCredentials, now: () => sb.clock.now() };
          const r = await both(async (t) => {
            await seed(t);
            const results: { step: string; api: string; outcome: unknown; outputs: Record<string, unknown> }[] = [];
            const stepOutputs = new Map<string, unknown>();
            for (const step of steps) {
              const where = `${name} step ${step.name}`;
              const { Service, Api, ...params } = render(step.inputs ?? {}, where, stepOutputs) as Record<
                string,
                unknown
              >;
              const service = SERVICES[String(Service).toLowerCase()];
              if (!service)
                throw new Error(`${where} calls service ${String(Service)}: add its SDK client to SERVICES`);
              const api = String(Api).charAt(0).toUpperCase() + String(Api).slice(1);
              const Command = service.module[`${api}Command`] as (new (input: unknown) => unknown) | undefined;
              if (!Command) throw new Error(`${where}: ${String(Service)}.${api} is not an API of the SDK client`);
              const client = new service.client(clientConfig(t));
              const called = await outcome(client.send(new Command(params)) as Promise<Record<string, unknown>>);
              const outputs: Record<string, unknown> = {};
              if (called.ok) {
                const { $metadata: _, ...body } = called.value;
                for (const o of step.outputs ?? []) {
                  outputs[o.Name] = selectPath(body, o.Selector);
                  stepOutputs.set(`${step.name}.${o.Name}`, outputs[o.Name]);
                }
              }
              results.push({ step: step.name, api: `${String(Service)}.${api}`, outcome: verdict(called), outputs });
            }
            return results;
          });
          expect(r.sandbox, name).toEqual(r.moto);
          // The seed makes every step succeed, so the comparison is of real answers.
          for (const s of r.sandbox) expect(s.outcome, `${name} ${s.step}`).toBe("ok");
        }
      });
    });
  },
);
