import { execFile } from "node:child_process";
import { createPublicKey, createVerify } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt, GITHUB_OIDC_ISSUER_URL, subjectFor, type WorkflowRunIdentity } from "../../sandbox/github/oidc.js";
import { GitHubSandbox, OIDC_TOKEN_ROUTE, type OidcRequestConfig } from "../../sandbox/github/server.js";

const coreUrl = pathToFileURL(resolve("node_modules/@actions/core/lib/core.js")).href;
let github: GitHubSandbox;
let dir: string;
let script: string;

const grantRun: WorkflowRunIdentity = {
  repository: "acme/infra",
  eventName: "push",
  ref: "refs/heads/main",
  sha: "a".repeat(40),
  workflowPath: ".github/workflows/elevate-grant.yml",
  workflowName: "Elevate grant",
  actor: "alice",
  runId: 4242,
};

/** core.getIDToken in a separate process, since it reads ACTIONS_ID_TOKEN_* from its env. */
function getIdToken(
  oidc: OidcRequestConfig,
  audience: string | undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [script, audience ?? ""],
      {
        env: {
          PATH: process.env.PATH,
          ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
        },
        timeout: 20_000,
      },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function verifyWithJwk(token: string, jwk: object): boolean {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const key = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  return createVerify("RSA-SHA256").update(`${header}.${payload}`).verify(key, Buffer.from(signature, "base64url"));
}

beforeAll(async () => {
  github = await GitHubSandbox.start();
  dir = mkdtempSync(join(tmpdir(), "elevate-oidc-test-"));
  script = join(dir, "get-id-token.mjs");
  writeFileSync(
    script,
    [
      `import * as core from ${JSON.stringify(coreUrl)};`,
      "const audience = process.argv[2] || undefined;",
      "try {",
      "  const token = await core.getIDToken(audience);",
      '  process.stdout.write("TOKEN=" + token + "\\n");',
      "} catch (error) {",
      "  process.stderr.write(String(error.message));",
      "  process.exit(3);",
      "}",
    ].join("\n"),
  );
});

afterAll(async () => {
  await github.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("OIDC token endpoint through @actions/core getIDToken", () => {
  it("issues an RS256 JWT with GitHub's claims for a push to main, verifiable with the JWK", async () => {
    const oidc = github.registerOidcRun(grantRun);
    const result = await getIdToken(oidc, "sts.amazonaws.com");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const token = /^TOKEN=(.+)$/m.exec(result.stdout)?.[1];
    expect(token).toBeDefined();
    // The child masks the token, as the runner would hide it in logs.
    expect(result.stdout).toContain(`::add-mask::${token}`);

    expect(verifyWithJwk(token!, github.issuer.jwk)).toBe(true);
    const tampered = `${token!.slice(0, token!.lastIndexOf(".") - 2)}xx${token!.slice(token!.lastIndexOf("."))}`;
    expect(verifyWithJwk(tampered, github.issuer.jwk)).toBe(false);

    const { header, payload } = decodeJwt(token!);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT", kid: github.issuer.kid });
    expect(payload).toMatchObject({
      iss: GITHUB_OIDC_ISSUER_URL,
      aud: "sts.amazonaws.com",
      sub: "repo:acme/infra:ref:refs/heads/main",
      repository: "acme/infra",
      repository_owner: "acme",
      ref: "refs/heads/main",
      ref_type: "branch",
      sha: "a".repeat(40),
      event_name: "push",
      workflow: "Elevate grant",
      workflow_ref: "acme/infra/.github/workflows/elevate-grant.yml@refs/heads/main",
      job_workflow_ref: "acme/infra/.github/workflows/elevate-grant.yml@refs/heads/main",
      actor: "alice",
      run_id: "4242",
    });
    expect(typeof payload.repository_id).toBe("string");
    const iat = payload.iat as number;
    expect(payload.exp).toBe(iat + 300);
    expect(payload.nbf).toBe(iat - 600);
    expect(github.issuer.verify(token!).sub).toBe("repo:acme/infra:ref:refs/heads/main");
    expect(github.issuedOidcTokens().at(-1)).toMatchObject({ audience: "sts.amazonaws.com", token });
  });

  it("defaults aud to the owner URL and reflects the run: PR, other branch, environment, other workflow", async () => {
    const fromPr = await getIdToken(
      github.registerOidcRun({
        ...grantRun,
        eventName: "pull_request",
        ref: "refs/pull/7/merge",
        headRef: "x",
        baseRef: "main",
      }),
      undefined,
    );
    const prClaims = decodeJwt(/^TOKEN=(.+)$/m.exec(fromPr.stdout)![1]!).payload;
    expect(prClaims).toMatchObject({
      sub: "repo:acme/infra:pull_request",
      aud: "https://github.com/acme",
      head_ref: "x",
    });

    const otherWorkflow = await getIdToken(
      github.registerOidcRun({ ...grantRun, ref: "refs/heads/feature", workflowPath: ".github/workflows/evil.yml" }),
      "sts.amazonaws.com",
    );
    const otherClaims = decodeJwt(/^TOKEN=(.+)$/m.exec(otherWorkflow.stdout)![1]!).payload;
    expect(otherClaims).toMatchObject({
      sub: "repo:acme/infra:ref:refs/heads/feature",
      workflow_ref: "acme/infra/.github/workflows/evil.yml@refs/heads/feature",
    });

    expect(subjectFor({ ...grantRun, environment: "prod:eu" })).toBe("repo:acme/infra:environment:prod%3Aeu");
    expect(subjectFor({ ...grantRun, immutableSubject: true, repositoryOwnerId: 11, repositoryId: 22 })).toBe(
      "repo:acme@11/infra@22:ref:refs/heads/main",
    );
  });

  it("refuses a wrong request token and surfaces injected failures to getIDToken", async () => {
    const oidc = github.registerOidcRun(grantRun);
    const wrong = await getIdToken({ ...oidc, requestToken: "not-the-token" }, "sts.amazonaws.com");
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("Failed to get ID Token");

    // http-client retries only on 5xx for GETs up to maxRetries; a 401 is final.
    github.failNext(OIDC_TOKEN_ROUTE, 401, { message: "Unauthorized" });
    const failed = await getIdToken(oidc, "sts.amazonaws.com");
    expect(failed.code).toBe(3);
    expect(
      github
        .calls()
        .filter((call) => call.route === OIDC_TOKEN_ROUTE)
        .at(-1)?.status,
    ).toBe(401);
  });

  it("serves the issuer's discovery document and JWKS", async () => {
    const configuration = (await (await fetch(`${github.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(configuration).toMatchObject({
      issuer: GITHUB_OIDC_ISSUER_URL,
      id_token_signing_alg_values_supported: ["RS256"],
    });
    const jwks = (await (await fetch(`${github.url}/.well-known/jwks`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((key) => key.kid)).toEqual([github.issuer.kid]);
  });
});
