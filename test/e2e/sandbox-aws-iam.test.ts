import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";

let sandbox: AwsSandbox;
let iam: IAMClient;

const policy = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
const trustAccount = policy({
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::123456789012:root" },
  Action: "sts:AssumeRole",
});

function client(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, maxAttempts = 1) {
  return new IAMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials, maxAttempts });
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  sandbox = await startAwsSandbox();
  iam = client(sandbox.rootCredentials);
});
afterAll(async () => {
  iam.destroy();
  await sandbox.close();
});

describe("IAM users and inline policies over the query protocol", () => {
  it("round-trips users, paths and inline policies (documents come back URL-encoded)", async () => {
    const created = await iam.send(new CreateUserCommand({ UserName: "alice.smith", Path: "/elevate/" }));
    expect(created.User).toMatchObject({
      UserName: "alice.smith",
      Path: "/elevate/",
      Arn: "arn:aws:iam::123456789012:user/elevate/alice.smith",
    });
    expect(created.User?.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(created.User?.CreateDate).toBeInstanceOf(Date);

    const got = await iam.send(new GetUserCommand({ UserName: "alice.smith" }));
    expect(got.User?.UserId).toBe(created.User?.UserId);

    const doc = policy({
      Sid: "A",
      Effect: "Allow",
      Action: "sts:AssumeRole",
      Resource: "arn:aws:iam::123456789012:role/x",
    });
    await iam.send(
      new PutUserPolicyCommand({ UserName: "alice.smith", PolicyName: "elevate-req-1", PolicyDocument: doc }),
    );
    const read = await iam.send(new GetUserPolicyCommand({ UserName: "alice.smith", PolicyName: "elevate-req-1" }));
    expect(read.PolicyDocument).toBe(encodeURIComponent(doc));
    expect(decodeURIComponent(read.PolicyDocument ?? "")).toBe(doc);
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: "alice.smith" }))).PolicyNames).toEqual([
      "elevate-req-1",
    ]);

    // A user with policies cannot be deleted (DeleteConflict); after deleting them it can.
    expect(await errorOf(iam.send(new DeleteUserCommand({ UserName: "alice.smith" })))).toMatchObject({
      name: "DeleteConflictException",
      status: 409,
    });
    await iam.send(new DeleteUserPolicyCommand({ UserName: "alice.smith", PolicyName: "elevate-req-1" }));
    expect(
      await errorOf(iam.send(new DeleteUserPolicyCommand({ UserName: "alice.smith", PolicyName: "elevate-req-1" }))),
    ).toMatchObject({
      name: "NoSuchEntityException",
      message: "The user policy with name elevate-req-1 cannot be found.",
      status: 404,
    });
    await iam.send(new DeleteUserCommand({ UserName: "alice.smith" }));
    expect(await errorOf(iam.send(new GetUserCommand({ UserName: "alice.smith" })))).toMatchObject({
      name: "NoSuchEntityException",
      message: "The user with name alice.smith cannot be found.",
    });
  });

  it("enforces IAM's name rules, uniqueness and policy grammar", async () => {
    expect(await errorOf(iam.send(new CreateUserCommand({ UserName: "bad name!" })))).toMatchObject({
      name: "ValidationError",
      status: 400,
    });
    expect(await errorOf(iam.send(new CreateUserCommand({ UserName: "x".repeat(65) })))).toMatchObject({
      name: "ValidationError",
    });
    expect(await errorOf(iam.send(new CreateUserCommand({ UserName: "u1", Path: "no-slash" })))).toMatchObject({
      name: "ValidationError",
    });
    await iam.send(new CreateUserCommand({ UserName: "u1" }));
    expect(await errorOf(iam.send(new CreateUserCommand({ UserName: "U1" })))).toMatchObject({
      name: "EntityAlreadyExistsException",
      message: "User with name U1 already exists.",
      status: 409,
    });
    expect(
      await errorOf(
        iam.send(new PutUserPolicyCommand({ UserName: "u1", PolicyName: "p", PolicyDocument: "{not json" })),
      ),
    ).toMatchObject({ name: "MalformedPolicyDocumentException", status: 400 });
    // Identity policies need a Resource and may not name a Principal.
    const noResource = policy({ Effect: "Allow", Action: "sts:AssumeRole" });
    expect(
      await errorOf(
        iam.send(new PutUserPolicyCommand({ UserName: "u1", PolicyName: "p", PolicyDocument: noResource })),
      ),
    ).toMatchObject({ name: "MalformedPolicyDocumentException" });
    expect(
      await errorOf(
        iam.send(new PutUserPolicyCommand({ UserName: "u1", PolicyName: "bad name", PolicyDocument: trustAccount })),
      ),
    ).toMatchObject({ name: "ValidationError" });
    expect(
      await errorOf(
        iam.send(
          new PutUserPolicyCommand({
            UserName: "nobody",
            PolicyName: "p",
            PolicyDocument: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
          }),
        ),
      ),
    ).toMatchObject({ name: "NoSuchEntityException" });
  });

  it("enforces the 2,048-character aggregate user budget, white space excluded, with IAM's message", async () => {
    await iam.send(new CreateUserCommand({ UserName: "budget" }));
    const sized = (n: number) => {
      // A policy whose size without white space is exactly n characters.
      const base = policy({ Sid: "", Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" });
      return base.replace('"Sid":""', `"Sid":"${"S".repeat(n - base.length)}"`);
    };
    const first = sized(1500);
    expect(first.length).toBe(1500);
    // Padding with white space does not count.
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "budget",
        PolicyName: "one",
        PolicyDocument: `${first}${" \n".repeat(400)}`,
      }),
    );
    await iam.send(new PutUserPolicyCommand({ UserName: "budget", PolicyName: "two", PolicyDocument: sized(548) }));
    const over = await errorOf(
      iam.send(new PutUserPolicyCommand({ UserName: "budget", PolicyName: "three", PolicyDocument: sized(200) })),
    );
    expect(over).toEqual({
      name: "LimitExceededException",
      message: "Maximum policy size of 2048 bytes exceeded for user budget",
      status: 409,
    });
    // Replacing a policy counts the new text instead of the old one.
    await iam.send(new PutUserPolicyCommand({ UserName: "budget", PolicyName: "two", PolicyDocument: sized(400) }));
    expect(Object.keys(sandbox.state.userPolicies("budget"))).toEqual(["one", "two"]);
  });
});

describe("IAM roles and OIDC providers", () => {
  it("round-trips roles, trust policies, MaxSessionDuration and role inline policies", async () => {
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: "EC2_FullAccess_Role",
        Path: "/elevated/",
        AssumeRolePolicyDocument: trustAccount,
        MaxSessionDuration: 3600,
      }),
    );
    expect(created.Role).toMatchObject({
      Arn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      MaxSessionDuration: 3600,
    });
    expect(created.Role?.RoleId).toMatch(/^AROA/);
    expect(decodeURIComponent(created.Role?.AssumeRolePolicyDocument ?? "")).toBe(trustAccount);

    await iam.send(new UpdateRoleCommand({ RoleName: "EC2_FullAccess_Role", MaxSessionDuration: 7200 }));
    const trust2 = policy({ Effect: "Allow", Principal: { Service: "ssm.amazonaws.com" }, Action: "sts:AssumeRole" });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "EC2_FullAccess_Role", PolicyDocument: trust2 }));
    const got = await iam.send(new GetRoleCommand({ RoleName: "EC2_FullAccess_Role" }));
    expect(got.Role?.MaxSessionDuration).toBe(7200);
    expect(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? "")).toBe(trust2);
    expect(
      await errorOf(iam.send(new UpdateRoleCommand({ RoleName: "EC2_FullAccess_Role", MaxSessionDuration: 100 }))),
    ).toMatchObject({ name: "ValidationError" });

    const cut = policy({ Sid: "ElevateCutoff", Effect: "Deny", Action: "*", Resource: "*" });
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "EC2_FullAccess_Role",
        PolicyName: "elevate-cutoff-bob",
        PolicyDocument: cut,
      }),
    );
    const read = await iam.send(
      new GetRolePolicyCommand({ RoleName: "EC2_FullAccess_Role", PolicyName: "elevate-cutoff-bob" }),
    );
    expect(decodeURIComponent(read.PolicyDocument ?? "")).toBe(cut);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: "EC2_FullAccess_Role" }))).PolicyNames).toEqual([
      "elevate-cutoff-bob",
    ]);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: "EC2_FullAccess_Role", PolicyName: "elevate-cutoff-bob" }));
    expect(
      await errorOf(
        iam.send(new GetRolePolicyCommand({ RoleName: "EC2_FullAccess_Role", PolicyName: "elevate-cutoff-bob" })),
      ),
    ).toMatchObject({
      name: "NoSuchEntityException",
      message: "The role policy with name elevate-cutoff-bob cannot be found.",
    });
    expect(await errorOf(iam.send(new GetRoleCommand({ RoleName: "missing" })))).toMatchObject({
      name: "NoSuchEntityException",
    });
  });

  it("enforces the 10,240-character aggregate role budget", async () => {
    await iam.send(new CreateRoleCommand({ RoleName: "budget-role", AssumeRolePolicyDocument: trustAccount }));
    const big = policy({ Sid: "S".repeat(5000), Effect: "Deny", Action: "*", Resource: "*" });
    await iam.send(new PutRolePolicyCommand({ RoleName: "budget-role", PolicyName: "a", PolicyDocument: big }));
    await iam.send(new PutRolePolicyCommand({ RoleName: "budget-role", PolicyName: "b", PolicyDocument: big }));
    expect(
      await errorOf(
        iam.send(new PutRolePolicyCommand({ RoleName: "budget-role", PolicyName: "c", PolicyDocument: big })),
      ),
    ).toEqual({
      name: "LimitExceededException",
      message: "Maximum policy size of 10240 bytes exceeded for role budget-role",
      status: 409,
    });
  });

  it("creates and reads an OIDC provider", async () => {
    const created = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: "https://token.actions.githubusercontent.com",
        ClientIDList: ["sts.amazonaws.com"],
        ThumbprintList: ["6938fd4d98bab03faadb97b34396831e3780aea1"],
      }),
    );
    expect(created.OpenIDConnectProviderArn).toBe(
      "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    );
    const got = await iam.send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: created.OpenIDConnectProviderArn }),
    );
    expect(got).toMatchObject({ Url: "token.actions.githubusercontent.com", ClientIDList: ["sts.amazonaws.com"] });
    expect(
      await errorOf(
        iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: "https://token.actions.githubusercontent.com",
            ClientIDList: ["x"],
          }),
        ),
      ),
    ).toMatchObject({ name: "EntityAlreadyExistsException" });
  });
});

describe("GetAccountAuthorizationDetails", () => {
  it("pages 2,500 users with MaxItems 1000 into 3 pages, with role details and URL-encoded documents", async () => {
    const sb = await startAwsSandbox();
    const admin = new IAMClient({ endpoint: sb.endpoint, region: sb.region, credentials: sb.rootCredentials });
    try {
      const grant = policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/r" });
      for (let i = 0; i < 2500; i++) {
        const name = `user${String(i).padStart(4, "0")}`;
        sb.state.iam.createUser(sb.defaultAccountId, name);
        if (i % 500 === 0) sb.state.iam.putUserPolicy(sb.defaultAccountId, name, "elevate-x", grant);
      }
      await admin.send(new CreateRoleCommand({ RoleName: "r", AssumeRolePolicyDocument: trustAccount }));
      await admin.send(
        new PutRolePolicyCommand({ RoleName: "r", PolicyName: "elevate-cutoff-u", PolicyDocument: grant }),
      );

      const pages = [];
      let marker: string | undefined;
      do {
        const page = await admin.send(
          new GetAccountAuthorizationDetailsCommand({
            Filter: ["User"],
            MaxItems: 1000,
            ...(marker ? { Marker: marker } : {}),
          }),
        );
        pages.push(page);
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      expect(pages.map((p) => p.UserDetailList?.length)).toEqual([1000, 1000, 500]);
      expect(pages.map((p) => p.IsTruncated)).toEqual([true, true, false]);
      const users = pages.flatMap((p) => p.UserDetailList ?? []);
      expect(new Set(users.map((u) => u.UserName)).size).toBe(2500);
      const withPolicy = users.filter((u) => (u.UserPolicyList ?? []).length > 0);
      expect(withPolicy.map((u) => u.UserName)).toEqual(["user0000", "user0500", "user1000", "user1500", "user2000"]);
      expect(decodeURIComponent(withPolicy[0]?.UserPolicyList?.[0]?.PolicyDocument ?? "")).toBe(grant);
      expect(pages.every((p) => (p.RoleDetailList ?? []).length === 0)).toBe(true);
      expect(sb.calls("GetAccountAuthorizationDetails")).toHaveLength(3);

      const roles = await admin.send(new GetAccountAuthorizationDetailsCommand({ Filter: ["Role"] }));
      expect(roles.UserDetailList).toEqual([]);
      expect(roles.RoleDetailList?.[0]).toMatchObject({ RoleName: "r" });
      expect(decodeURIComponent(roles.RoleDetailList?.[0]?.AssumeRolePolicyDocument ?? "")).toBe(trustAccount);
      expect(roles.RoleDetailList?.[0]?.RolePolicyList?.[0]?.PolicyName).toBe("elevate-cutoff-u");

      // Default MaxItems is 100; out-of-range values are rejected.
      const firstDefault = await admin.send(new GetAccountAuthorizationDetailsCommand({}));
      expect(firstDefault.UserDetailList).toHaveLength(100);
      expect(firstDefault.IsTruncated).toBe(true);
      expect(await errorOf(admin.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 1001 })))).toMatchObject({
        name: "ValidationError",
      });

      const listed = await admin.send(new ListUsersCommand({ MaxItems: 1000, PathPrefix: "/" }));
      expect(listed.Users).toHaveLength(1000);
      expect(listed.IsTruncated).toBe(true);
    } finally {
      admin.destroy();
      await sb.close();
    }
  });
});

describe("authentication and authorization", () => {
  it("rejects tampered bodies, wrong secrets, unknown keys and missing session tokens", async () => {
    await iam.send(new CreateUserCommand({ UserName: "mallory" }));
    await iam.send(new CreateUserCommand({ UserName: "victim" }));
    const tampering = client(sandbox.rootCredentials);
    // Runs after signing: rewrites the signed body (same length, so only the signature can tell).
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string };
        if (typeof request.body === "string")
          request.body = request.body.replace("UserName=mallory", "UserName=victim1");
        return next(args);
      },
      { step: "deserialize", priority: "low" },
    );
    expect(await errorOf(tampering.send(new GetUserCommand({ UserName: "mallory" })))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });

    const wrongSecret = client({ accessKeyId: sandbox.rootCredentials.accessKeyId, secretAccessKey: "not-the-secret" });
    expect(await errorOf(wrongSecret.send(new GetUserCommand({ UserName: "mallory" })))).toMatchObject({
      name: "SignatureDoesNotMatch",
    });
    const unknown = client({ accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: "x" });
    expect(await errorOf(unknown.send(new GetUserCommand({ UserName: "mallory" })))).toMatchObject({
      name: "InvalidClientTokenId",
      status: 403,
    });
    const forgedToken = client({ ...sandbox.rootCredentials, sessionToken: "forged" });
    expect(await errorOf(forgedToken.send(new GetUserCommand({ UserName: "mallory" })))).toMatchObject({
      name: "InvalidClientTokenId",
    });
    const failures = sandbox.callLog.filter(
      (c) => c.outcome === "SignatureDoesNotMatch" || c.outcome === "InvalidClientTokenId",
    );
    expect(failures.length).toBeGreaterThanOrEqual(4);
    expect(failures.every((c) => c.principal === "anonymous")).toBe(true);
    for (const c of [tampering, wrongSecret, unknown, forgedToken]) c.destroy();
  });

  it("evaluates the caller's identity policies: least privilege, explicit deny, path-scoped resources", async () => {
    await iam.send(new CreateUserCommand({ UserName: "operator" }));
    await iam.send(new CreateUserCommand({ UserName: "target", Path: "/eligible/" }));
    await iam.send(new CreateUserCommand({ UserName: "outsider" }));
    await iam.send(new CreateUserCommand({ UserName: "protected-admin", Path: "/eligible/" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "operator",
        PolicyName: "ops",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["iam:PutUserPolicy", "iam:GetUserPolicy"],
              Resource: "arn:aws:iam::123456789012:user/eligible/*",
            },
            {
              Effect: "Deny",
              Action: "iam:PutUserPolicy",
              Resource: "arn:aws:iam::123456789012:user/eligible/protected-*",
            },
          ],
        }),
      }),
    );
    const keys = sandbox.state.createAccessKey("operator");
    const operator = client(keys);
    const grant = policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/x" });
    await operator.send(
      new PutUserPolicyCommand({ UserName: "target", PolicyName: "elevate-a", PolicyDocument: grant }),
    );
    expect(sandbox.state.userPolicies("target")).toHaveProperty("elevate-a");

    const outside = await errorOf(
      operator.send(new PutUserPolicyCommand({ UserName: "outsider", PolicyName: "elevate-a", PolicyDocument: grant })),
    );
    expect(outside).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(outside.message).toContain(
      "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: iam:PutUserPolicy on resource: arn:aws:iam::123456789012:user/outsider",
    );
    expect(await errorOf(operator.send(new GetUserCommand({ UserName: "target" })))).toMatchObject({
      name: "AccessDenied",
    });
    const explicit = await errorOf(
      operator.send(
        new PutUserPolicyCommand({ UserName: "protected-admin", PolicyName: "elevate-a", PolicyDocument: grant }),
      ),
    );
    expect(explicit.message).toContain("with an explicit deny");
    expect(sandbox.state.userPolicies("protected-admin")).toEqual({});
    expect(sandbox.state.userPolicies("outsider")).toEqual({});
    const denied = sandbox.calls("PutUserPolicy").filter((c) => c.outcome === "AccessDenied");
    expect(denied.at(-1)?.principal).toBe("arn:aws:iam::123456789012:user/operator");
    operator.destroy();
  });
});

describe("knobs", () => {
  it("throttles deterministically and injects failures the SDK sees", async () => {
    const sb = await startAwsSandbox({ seed: 7 });
    const admin = new IAMClient({
      endpoint: sb.endpoint,
      region: sb.region,
      credentials: sb.rootCredentials,
      maxAttempts: 1,
    });
    const retrying = new IAMClient({
      endpoint: sb.endpoint,
      region: sb.region,
      credentials: sb.rootCredentials,
      maxAttempts: 5,
    });
    try {
      await admin.send(new CreateUserCommand({ UserName: "k" }));
      sb.knobs.throttleRate = 1;
      expect(await errorOf(admin.send(new GetUserCommand({ UserName: "k" })))).toMatchObject({
        name: "Throttling",
        status: 400,
      });
      sb.knobs.throttleRate = 0;

      sb.knobs.failNext("GetUser", "ServiceFailure", 2);
      // The SDK retries 5xx: two injected failures, then success on the third attempt.
      const ok = await retrying.send(new GetUserCommand({ UserName: "k" }));
      expect(ok.$metadata.attempts).toBe(3);
      expect(
        sb
          .calls("GetUser")
          .slice(-3)
          .map((c) => c.outcome),
      ).toEqual(["ServiceFailure", "ServiceFailure", "ok"]);

      sb.knobs.failNext("PutUserPolicy", "LimitExceeded");
      const injected = await errorOf(
        admin.send(
          new PutUserPolicyCommand({
            UserName: "k",
            PolicyName: "p",
            PolicyDocument: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
          }),
        ),
      );
      expect(injected).toMatchObject({ name: "LimitExceededException", status: 409 });
      expect(sb.state.userPolicies("k")).toEqual({});

      // Same seed and rate: the same calls are throttled.
      const pattern = async () => {
        const s = await startAwsSandbox({ seed: 42 });
        const c = new IAMClient({
          endpoint: s.endpoint,
          region: s.region,
          credentials: s.rootCredentials,
          maxAttempts: 1,
        });
        s.knobs.throttleRate = 0.5;
        const out: string[] = [];
        for (let i = 0; i < 12; i++)
          out.push(
            await c.send(new ListUsersCommand({})).then(
              () => "ok",
              (e: Error) => e.name,
            ),
          );
        c.destroy();
        await s.close();
        return out;
      };
      const a = await pattern();
      expect(await pattern()).toEqual(a);
      expect(a).toContain("Throttling");
      expect(a).toContain("ok");

      sb.knobs.latencyMs = 50;
      const t0 = Date.now();
      await admin.send(new GetUserCommand({ UserName: "k" }));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    } finally {
      admin.destroy();
      retrying.destroy();
      await sb.close();
    }
  });
});
