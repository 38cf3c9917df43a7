import { createSign, generateKeyPairSync } from "node:crypto";
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";
import { cutoffPolicyName, cutoffPolicyText, grantPolicyName, grantPolicyText } from "../../src/domain/grant-policy.js";

const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "210987654321";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
const GITHUB_HOST = "token.actions.githubusercontent.com";

const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });

let sandbox: AwsSandbox;
let iam: IAMClient;

const iamAs = (credentials: Credentials) =>
  new IAMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials, maxAttempts: 1 });
const stsAs = (credentials?: Credentials) =>
  new STSClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    maxAttempts: 1,
    ...(credentials ? { credentials } : { credentials: { accessKeyId: "unused", secretAccessKey: "unused" } }),
  });

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

function sessionCredentials(out: {
  Credentials?:
    | { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined }
    | undefined;
}): Credentials {
  return {
    accessKeyId: out.Credentials?.AccessKeyId ?? "",
    secretAccessKey: out.Credentials?.SecretAccessKey ?? "",
    sessionToken: out.Credentials?.SessionToken ?? "",
  };
}

function signJwt(claims: Record<string, unknown>, key = privateKey, kid = "k1"): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "RS256", typ: "JWT", kid })}.${b64(claims)}`;
  const signature = createSign("RSA-SHA256").update(input).sign(key).toString("base64url");
  return `${input}.${signature}`;
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({
    accountIds: [ACCOUNT, OTHER_ACCOUNT],
    now: new Date("2026-11-30T08:00:00Z"),
    clockMode: "frozen",
    trustedIssuers: [{ issuerUrl: GITHUB_ISSUER, publicKey, kid: "k1" }],
  });
  iam = iamAs(sandbox.rootCredentials);
  // The privileged role: trusts the account, but only with session name = IAM user name.
  await iam.send(
    new CreateRoleCommand({
      RoleName: "EC2_FullAccess_Role",
      Path: "/elevated/",
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: "sts:AssumeRole",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
            Condition: { StringEquals: { "sts:RoleSessionName": "${aws:username}" } },
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "EC2_FullAccess_Role",
      PolicyName: "work",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "iam:ListUsers", Resource: "*" }],
      }),
    }),
  );
  await iam.send(new CreateUserCommand({ UserName: "alice" }));
  await iam.send(new CreateUserCommand({ UserName: "bob" }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "alice",
      PolicyName: grantPolicyName("req-1"),
      PolicyDocument: grantPolicyText({
        requestId: "req-1",
        iamUser: "alice",
        roleArn: ROLE_ARN,
        notBefore: new Date("2026-11-30T09:00:00Z"),
        notAfter: new Date("2026-11-30T11:00:00Z"),
      }),
    }),
  );
});

afterAll(async () => {
  iam.destroy();
  await sandbox.close();
});

describe("AssumeRole", () => {
  it("is allowed only inside the grant window, with session name = user name, up to MaxSessionDuration", async () => {
    const alice = stsAs(sandbox.state.createAccessKey("alice"));
    const bob = stsAs(sandbox.state.createAccessKey("bob"));

    sandbox.clock.set(new Date("2026-11-30T08:59:59Z"));
    const early = await errorOf(alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice" })));
    expect(early).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(early.message).toContain(
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
    );

    sandbox.clock.set(new Date("2026-11-30T09:30:00Z"));
    const ok = await alice.send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice", DurationSeconds: 3600 }),
    );
    const roleId = sandbox.state.role("EC2_FullAccess_Role")?.roleId;
    expect(ok.AssumedRoleUser).toEqual({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/alice`,
      AssumedRoleId: `${roleId}:alice`,
    });
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(ok.Credentials?.Expiration?.toISOString()).toBe("2026-11-30T10:30:00.000Z");

    // Another session name, a longer session, another user, the root user: all refused.
    expect(
      await errorOf(alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "admin" }))),
    ).toMatchObject({ name: "AccessDenied" });
    expect(
      await errorOf(
        alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice", DurationSeconds: 7200 })),
      ),
    ).toMatchObject({
      name: "ValidationError",
      message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    });
    expect(await errorOf(bob.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "bob" })))).toMatchObject(
      { name: "AccessDenied" },
    );
    const root = stsAs(sandbox.rootCredentials);
    expect(
      await errorOf(root.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice" }))),
    ).toMatchObject({ name: "AccessDenied" });
    // A role that does not exist looks the same as one you may not assume.
    expect(
      await errorOf(
        alice.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/nope`, RoleSessionName: "alice" })),
      ),
    ).toMatchObject({ name: "AccessDenied" });

    sandbox.clock.set(new Date("2026-11-30T11:00:01Z"));
    expect(
      await errorOf(alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice" }))),
    ).toMatchObject({ name: "AccessDenied" });
    const outcomes = sandbox.calls("AssumeRole").map((c) => c.outcome);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    for (const c of [alice, bob, root]) c.destroy();
  });

  it("issues sessions that identify themselves and expire on the sandbox clock", async () => {
    sandbox.clock.set(new Date("2026-11-30T09:00:00Z"));
    const alice = stsAs(sandbox.state.createAccessKey("alice"));
    const session = sessionCredentials(
      await alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice", DurationSeconds: 900 })),
    );
    const asSession = stsAs(session);
    const who = await asSession.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/alice`);
    expect(who.UserId).toBe(`${sandbox.state.role("EC2_FullAccess_Role")?.roleId}:alice`);
    const sessionIam = iamAs(session);
    await sessionIam.send(new ListUsersCommand({}));
    expect(sandbox.calls("ListUsers").at(-1)?.principal).toBe(who.Arn);

    sandbox.clock.advance(901_000);
    expect(await errorOf(sessionIam.send(new ListUsersCommand({})))).toMatchObject({
      name: "ExpiredToken",
      status: 403,
    });
    // A session token that does not belong to the key is rejected.
    expect(await errorOf(iamAs({ ...session, sessionToken: "x" }).send(new ListUsersCommand({})))).toMatchObject({
      name: "InvalidClientTokenId",
    });
    for (const c of [alice, asSession, sessionIam]) c.destroy();
  });

  it("cuts off sessions issued before a revocation (elevate-cutoff-<user>) and not later ones", async () => {
    sandbox.clock.set(new Date("2026-11-30T09:10:00Z"));
    const alice = stsAs(sandbox.state.createAccessKey("alice"));
    const early = iamAs(
      sessionCredentials(await alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice" }))),
    );
    await early.send(new ListUsersCommand({}));

    sandbox.clock.set(new Date("2026-11-30T09:20:00Z"));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "EC2_FullAccess_Role",
        PolicyName: cutoffPolicyName("alice"),
        PolicyDocument: cutoffPolicyText("alice", new Date("2026-11-30T09:20:00Z")),
      }),
    );
    const denied = await errorOf(early.send(new ListUsersCommand({})));
    expect(denied).toMatchObject({ name: "AccessDenied" });
    expect(denied.message).toContain("explicit deny");

    sandbox.clock.set(new Date("2026-11-30T09:21:00Z"));
    const later = iamAs(
      sessionCredentials(await alice.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: "alice" }))),
    );
    await expect(later.send(new ListUsersCommand({}))).resolves.toBeDefined();
    for (const c of [alice, early, later]) c.destroy();
  });

  it("allows cross-account roles only when both the trust policy and the caller's identity policy allow", async () => {
    const other = iamAs(sandbox.rootCredentialsFor(OTHER_ACCOUNT));
    await other.send(
      new CreateRoleCommand({
        RoleName: "cross",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
    const crossArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/cross`;
    await iam.send(new CreateUserCommand({ UserName: "carol" }));
    const carol = stsAs(sandbox.state.createAccessKey("carol"));
    expect(
      await errorOf(carol.send(new AssumeRoleCommand({ RoleArn: crossArn, RoleSessionName: "carol" }))),
    ).toMatchObject({ name: "AccessDenied" });
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "carol",
        PolicyName: "cross",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: crossArn }],
        }),
      }),
    );
    const ok = await carol.send(new AssumeRoleCommand({ RoleArn: crossArn, RoleSessionName: "carol" }));
    expect(ok.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/cross/carol`);
    other.destroy();
    carol.destroy();
  });
});

describe("AssumeRoleWithWebIdentity", () => {
  const grantRoleArn = `arn:aws:iam::${ACCOUNT}:role/elevate-grant`;
  const claims = (overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(sandbox.clock.now().getTime() / 1000);
    return {
      iss: GITHUB_ISSUER,
      aud: "sts.amazonaws.com",
      sub: "repo:acme/access:ref:refs/heads/main",
      repository: "acme/access",
      ref: "refs/heads/main",
      job_workflow_ref: "acme/access/.github/workflows/elevate-grant.yml@refs/heads/main",
      iat: now - 10,
      nbf: now - 10,
      exp: now + 300,
      ...overrides,
    };
  };

  beforeAll(async () => {
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: GITHUB_ISSUER, ClientIDList: ["sts.amazonaws.com"] }));
    await iam.send(
      new CreateRoleCommand({
        RoleName: "elevate-grant",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB_HOST}` },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: {
                  [`${GITHUB_HOST}:aud`]: "sts.amazonaws.com",
                  [`${GITHUB_HOST}:sub`]: "repo:acme/access:ref:refs/heads/main",
                  [`${GITHUB_HOST}:job_workflow_ref`]:
                    "acme/access/.github/workflows/elevate-grant.yml@refs/heads/main",
                },
              },
            },
          ],
        }),
      }),
    );
  });

  it("grants DurationSeconds up to the role's MaxSessionDuration (3,600 s by default) and expires the session on the sandbox clock", async () => {
    const sts = stsAs();
    const ask = (DurationSeconds: number | undefined) =>
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: grantRoleArn,
          RoleSessionName: "GitHubActions",
          WebIdentityToken: signJwt(claims()),
          ...(DurationSeconds === undefined ? {} : { DurationSeconds }),
        }),
      );
    for (const tooLong of [3601, 4500]) {
      expect(await errorOf(ask(tooLong))).toMatchObject({
        name: "ValidationError",
        message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      });
    }
    expect(await errorOf(ask(899))).toMatchObject({ name: "ValidationError" });
    const issuedAt = sandbox.clock.now().getTime();
    const out = await ask(undefined);
    expect(out.Credentials?.Expiration?.getTime()).toBe(issuedAt + 3600 * 1000);
    const session = stsAs(sessionCredentials(out));
    sandbox.clock.advance(3599_000);
    await session.send(new GetCallerIdentityCommand({}));
    sandbox.clock.advance(1_000);
    expect(await errorOf(session.send(new GetCallerIdentityCommand({})))).toMatchObject({ name: "ExpiredToken" });
    sandbox.clock.advance(-3600_000);
    for (const c of [sts, session]) c.destroy();
  });

  it("exchanges a valid token for role credentials, unsigned", async () => {
    const sts = stsAs();
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: grantRoleArn,
        RoleSessionName: "GitHubActions",
        WebIdentityToken: signJwt(claims()),
      }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/elevate-grant/GitHubActions`);
    expect(out.SubjectFromWebIdentityToken).toBe("repo:acme/access:ref:refs/heads/main");
    expect(out.Provider).toBe(GITHUB_ISSUER);
    const who = await stsAs(sessionCredentials(out)).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(out.AssumedRoleUser?.Arn);
    const logged = sandbox.calls("AssumeRoleWithWebIdentity").at(-1);
    expect(logged).toMatchObject({ principal: "anonymous", outcome: "ok" });
    expect(logged?.params.WebIdentityToken).toBe("<redacted>");
    sts.destroy();
  });

  it("rejects tokens the trust policy does not match, bad signatures, wrong audiences and expired tokens", async () => {
    const sts = stsAs();
    const call = (token: string) =>
      errorOf(
        sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: grantRoleArn,
            RoleSessionName: "GitHubActions",
            WebIdentityToken: token,
          }),
        ),
      );
    expect(
      await call(signJwt(claims({ sub: "repo:acme/access:ref:refs/heads/feature", ref: "refs/heads/feature" }))),
    ).toMatchObject({
      name: "AccessDenied",
      status: 403,
    });
    expect(
      await call(signJwt(claims({ job_workflow_ref: "acme/access/.github/workflows/other.yml@refs/heads/main" }))),
    ).toMatchObject({ name: "AccessDenied" });
    expect(await call(signJwt(claims(), attacker.privateKey))).toMatchObject({
      name: "InvalidIdentityTokenException",
      status: 400,
    });
    expect(await call(signJwt(claims(), privateKey, "other-kid"))).toMatchObject({
      name: "InvalidIdentityTokenException",
    });
    expect(await call(signJwt(claims({ aud: "someone-else" })))).toMatchObject({
      name: "InvalidIdentityTokenException",
      message: "Incorrect token audience",
    });
    expect(await call(signJwt(claims({ iss: "https://evil.example.com" })))).toMatchObject({
      name: "InvalidIdentityTokenException",
    });
    const now = Math.floor(sandbox.clock.now().getTime() / 1000);
    expect(await call(signJwt(claims({ exp: now - 1 })))).toMatchObject({ name: "ExpiredTokenException" });
    expect(await call(signJwt(claims({ nbf: now + 600 })))).toMatchObject({ name: "InvalidIdentityTokenException" });
    expect(await call("not-a-jwt")).toMatchObject({ name: "InvalidIdentityTokenException" });
    const tampered = signJwt(claims()).split(".");
    tampered[1] = Buffer.from(
      JSON.stringify(claims({ sub: "repo:acme/access:ref:refs/heads/main", repository: "evil/x" })),
    ).toString("base64url");
    expect(await call(tampered.join("."))).toMatchObject({ name: "InvalidIdentityTokenException" });
    sts.destroy();
  });
});

describe("AssumeRoleWithWebIdentity exposes only the claims AWS documents as condition keys", () => {
  const now = () => Math.floor(sandbox.clock.now().getTime() / 1000);
  /** A token carrying every claim GitHub issues, documented as an AWS condition key or not. */
  const fullClaims = () => ({
    iss: GITHUB_ISSUER,
    aud: "sts.amazonaws.com",
    sub: "repo:acme/access:ref:refs/heads/main",
    actor: "alice",
    actor_id: "1001",
    repository: "acme/access",
    repository_id: "424242",
    repository_owner: "acme",
    repository_owner_id: "777",
    repository_visibility: "private",
    workflow: "Elevate grant",
    ref: "refs/heads/main",
    ref_type: "branch",
    ref_protected: "true",
    environment: "prod",
    enterprise_id: "9",
    job_workflow_ref: "acme/access/.github/workflows/elevate-grant.yml@refs/heads/main",
    run_id: "1",
    event_name: "push",
    sha: "a".repeat(40),
    iat: now() - 10,
    nbf: now() - 10,
    exp: now() + 300,
  });

  async function roleTrusting(name: string, claim: string, value: string): Promise<string> {
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB_HOST}` },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: { [`${GITHUB_HOST}:aud`]: "sts.amazonaws.com", [`${GITHUB_HOST}:${claim}`]: value },
              },
            },
          ],
        }),
      }),
    );
    return `arn:aws:iam::${ACCOUNT}:role/${name}`;
  }

  async function assume(roleArn: string) {
    const sts = stsAs();
    try {
      await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: "GitHubActions",
          WebIdentityToken: signJwt(fullClaims()),
        }),
      );
      return "allowed";
    } catch (err) {
      return (err as Error).name;
    } finally {
      sts.destroy();
    }
  }

  it.each([
    ["sub", "repo:acme/access:ref:refs/heads/main"],
    ["actor", "alice"],
    ["actor_id", "1001"],
    ["job_workflow_ref", "acme/access/.github/workflows/elevate-grant.yml@refs/heads/main"],
    ["repository", "acme/access"],
    ["repository_id", "424242"],
    ["workflow", "Elevate grant"],
    ["ref", "refs/heads/main"],
    ["environment", "prod"],
    ["enterprise_id", "9"],
  ])("honours a trust condition on the documented claim %s", async (claim, value) => {
    const arn = await roleTrusting(`documented-${claim.replaceAll("_", "-")}`, claim, value);
    expect(await assume(arn)).toBe("allowed");
  });

  // A trust policy relying on one of these can never match in AWS: the sandbox must refuse it too,
  // so a template that relies on one fails our own tests instead of working only here.
  it.each([
    ["repository_owner", "acme"],
    ["repository_owner_id", "777"],
    ["repository_visibility", "private"],
    ["ref_type", "branch"],
    ["ref_protected", "true"],
    ["run_id", "1"],
    ["event_name", "push"],
    ["sha", "a".repeat(40)],
  ])(
    "refuses a trust that relies on the undocumented claim %s, even when the token carries it",
    async (claim, value) => {
      const arn = await roleTrusting(`undocumented-${claim.replaceAll("_", "-")}`, claim, value);
      expect(await assume(arn)).toBe("AccessDenied");
    },
  );
});
