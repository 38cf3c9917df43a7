/**
 * A stand-in for GitHub Actions' OIDC token issuer (token.actions.githubusercontent.com).
 *
 * It signs RS256 JWTs with the header and claims GitHub documents, so the AWS STS
 * stand-in can verify them exactly as real STS does for `AssumeRoleWithWebIdentity`:
 * signature against the issuer's JWKS, `iss`, `aud`, `exp`/`nbf`, then the role's trust
 * policy conditions on `token.actions.githubusercontent.com:sub` / `:aud`.
 *
 * Claim list, subject formats, `%3A` escaping of colons and the immutable subject format:
 * GitHub Docs, "OpenID Connect reference" (formerly "About security hardening with OpenID
 * Connect"), https://docs.github.com/en/actions/reference/security/oidc
 */
import { createHash, createSign, createVerify, generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";

export const GITHUB_OIDC_ISSUER_URL = "https://token.actions.githubusercontent.com";

/**
 * Claims of a GitHub Actions OIDC token. GitHub renders every custom claim, ids and
 * counters included, as a JSON string; only the registered JWT times are numbers.
 */
export interface GitHubOidcClaims {
  jti: string;
  sub: string;
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  ref: string;
  ref_type: "branch" | "tag" | "";
  ref_protected: "true" | "false";
  sha: string;
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  repository_visibility: "public" | "private" | "internal";
  actor: string;
  actor_id: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  runner_environment: "github-hosted" | "self-hosted";
  workflow: string;
  workflow_ref: string;
  workflow_sha: string;
  job_workflow_ref: string;
  job_workflow_sha: string;
  event_name: string;
  head_ref: string;
  base_ref: string;
  environment?: string;
  [extra: string]: string | number | undefined;
}

/** What a workflow run looks like from the issuer's side: the inputs of every claim. */
export interface WorkflowRunIdentity {
  /** "owner/repo". */
  repository: string;
  repositoryId?: number;
  repositoryOwnerId?: number;
  repositoryVisibility?: "public" | "private" | "internal";
  /** push | pull_request | pull_request_target | schedule | workflow_dispatch … */
  eventName: string;
  /** Full ref: refs/heads/main, refs/tags/v1, refs/pull/7/merge. */
  ref: string;
  /** Commit the run is for (GITHUB_SHA). */
  sha: string;
  /** Workflow file path in the repository, e.g. ".github/workflows/elevate-grant.yml". */
  workflowPath: string;
  /** The workflow's `name:` (defaults to the path, as GitHub does for unnamed workflows). */
  workflowName?: string;
  /** Ref the workflow file was read from; defaults to `ref`. */
  workflowFileRef?: string;
  /** For jobs calling a reusable workflow: its "owner/repo/path@ref"; defaults to workflow_ref. */
  jobWorkflowRef?: string;
  /** Job's `environment:`; when set the subject is `…:environment:NAME`. */
  environment?: string;
  actor: string;
  actorId?: number;
  runId: number;
  runNumber?: number;
  runAttempt?: number;
  /** Pull request runs: source and target branch names. */
  headRef?: string;
  baseRef?: string;
  refProtected?: boolean;
  runnerEnvironment?: "github-hosted" | "self-hosted";
  /**
   * Use the immutable subject format `repo:OWNER@OWNER-ID/REPO@REPO-ID:…` (default for
   * repositories created after 2026-07-15 or opted in).
   */
  immutableSubject?: boolean;
}

export interface IssueOptions {
  /** `aud`; GitHub's default is the URL of the repository owner. */
  audience?: string;
  /** Issue time; tokens are valid from now-600s (nbf) to now+300s (exp) like GitHub's. */
  now?: Date;
  /** Extra or overriding claims, for negative tests (expired, wrong issuer …). */
  override?: Partial<GitHubOidcClaims>;
}

/** Stable small numeric ids derived from a name, so a repo keeps its id across runs. */
export function stableId(name: string): number {
  return (createHash("sha256").update(name).digest().readUInt32BE(0) % 900_000_000) + 100_000_000;
}

/** Colons inside subject components are escaped as %3A (docs: "Filtering for metadata containing `:`"). */
function subjectPart(value: string): string {
  return value.replaceAll(":", "%3A");
}

/**
 * The default `sub` claim (docs: "Example subject claims"): environment wins over event;
 * `pull_request` events get `:pull_request`; everything else gets `:ref:<full ref>`.
 */
export function subjectFor(run: WorkflowRunIdentity): string {
  const [owner, repo] = splitRepository(run.repository);
  const repoPart = run.immutableSubject
    ? `${owner}@${run.repositoryOwnerId ?? stableId(owner)}/${repo}@${run.repositoryId ?? stableId(run.repository)}`
    : `${owner}/${repo}`;
  let context: string;
  if (run.environment !== undefined) context = `environment:${subjectPart(run.environment)}`;
  else if (run.eventName === "pull_request") context = "pull_request";
  else context = `ref:${subjectPart(run.ref)}`;
  return `repo:${repoPart}:${context}`;
}

function splitRepository(repository: string): [string, string] {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (!match) throw new Error(`repository must be "owner/name", got ${JSON.stringify(repository)}`);
  return [match[1]!, match[2]!];
}

function refType(ref: string): GitHubOidcClaims["ref_type"] {
  if (ref.startsWith("refs/heads/")) return "branch";
  if (ref.startsWith("refs/tags/")) return "tag";
  return "";
}

/** All claims GitHub would put in a token for this run. */
export function githubActionsClaims(run: WorkflowRunIdentity, options: IssueOptions = {}): GitHubOidcClaims {
  const [owner] = splitRepository(run.repository);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const workflowRef = `${run.repository}/${run.workflowPath}@${run.workflowFileRef ?? run.ref}`;
  const claims: GitHubOidcClaims = {
    jti: randomUUID(),
    sub: subjectFor(run),
    aud: options.audience ?? `https://github.com/${owner}`,
    ref: run.ref,
    sha: run.sha,
    repository: run.repository,
    repository_owner: owner,
    repository_owner_id: String(run.repositoryOwnerId ?? stableId(owner)),
    run_id: String(run.runId),
    run_number: String(run.runNumber ?? 1),
    run_attempt: String(run.runAttempt ?? 1),
    repository_visibility: run.repositoryVisibility ?? "private",
    repository_id: String(run.repositoryId ?? stableId(run.repository)),
    actor_id: String(run.actorId ?? stableId(`user:${run.actor}`)),
    actor: run.actor,
    workflow: run.workflowName ?? run.workflowPath,
    head_ref: run.headRef ?? "",
    base_ref: run.baseRef ?? "",
    event_name: run.eventName,
    ref_protected: run.refProtected ? "true" : "false",
    ref_type: refType(run.ref),
    workflow_ref: workflowRef,
    workflow_sha: run.sha,
    job_workflow_ref: run.jobWorkflowRef ?? workflowRef,
    job_workflow_sha: run.sha,
    runner_environment: run.runnerEnvironment ?? "github-hosted",
    iss: GITHUB_OIDC_ISSUER_URL,
    nbf: iat - 600,
    exp: iat + 300,
    iat,
  };
  if (run.environment !== undefined) claims.environment = run.environment;
  return { ...claims, ...options.override } as GitHubOidcClaims;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString("base64url");
}

export interface DecodedJwt {
  header: { alg: string; kid?: string; typ?: string; x5t?: string };
  payload: Record<string, unknown>;
}

/** Splits and decodes a compact JWS without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("JWT must have three dot-separated parts");
  const [header, payload] = parts
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"))) as [
    DecodedJwt["header"],
    Record<string, unknown>,
  ];
  return { header, payload };
}

/** Verifies an RS256 compact JWS signature against a public key; returns the decoded token. */
export function verifyRs256(token: string, publicKey: KeyObject): DecodedJwt {
  const decoded = decodeJwt(token);
  if (decoded.header.alg !== "RS256") throw new Error(`unsupported JWT alg ${decoded.header.alg}`);
  const lastDot = token.lastIndexOf(".");
  const verifier = createVerify("RSA-SHA256");
  verifier.update(token.slice(0, lastDot));
  if (!verifier.verify(publicKey, Buffer.from(token.slice(lastDot + 1), "base64url"))) {
    throw new Error("JWT signature does not verify");
  }
  return decoded;
}

export interface RsaPublicJwk {
  kty: "RSA";
  n: string;
  e: string;
  kid: string;
  alg: "RS256";
  use: "sig";
}

/** The issuer: one RSA key pair, its JWK/JWKS, and RS256 signing. */
export class GitHubOidcIssuer {
  readonly issuerUrl = GITHUB_OIDC_ISSUER_URL;
  readonly publicKey: KeyObject;
  readonly jwk: RsaPublicJwk;
  readonly kid: string;
  readonly #privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.publicKey = publicKey;
    this.#privateKey = privateKey;
    const exported = publicKey.export({ format: "jwk" });
    // GitHub's kid is a key thumbprint; the RFC 7638 thumbprint is the natural stand-in.
    const thumbprint = createHash("sha256")
      .update(JSON.stringify({ e: exported.e, kty: "RSA", n: exported.n }))
      .digest("base64url");
    this.kid = thumbprint;
    this.jwk = { kty: "RSA", n: exported.n!, e: exported.e!, kid: thumbprint, alg: "RS256", use: "sig" };
  }

  /** The document at `${issuerUrl}/.well-known/jwks`. */
  jwks(): { keys: RsaPublicJwk[] } {
    return { keys: [this.jwk] };
  }

  /** The document at `${issuerUrl}/.well-known/openid-configuration`. */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/.well-known/jwks`,
      subject_types_supported: ["public", "pairwise"],
      response_types_supported: ["id_token"],
      claims_supported: [
        "sub",
        "aud",
        "exp",
        "iat",
        "iss",
        "jti",
        "nbf",
        "ref",
        "sha",
        "repository",
        "repository_id",
        "repository_owner",
        "repository_owner_id",
        "enterprise",
        "enterprise_id",
        "run_id",
        "run_number",
        "run_attempt",
        "actor",
        "actor_id",
        "workflow",
        "workflow_ref",
        "workflow_sha",
        "head_ref",
        "base_ref",
        "event_name",
        "ref_type",
        "ref_protected",
        "environment",
        "environment_node_id",
        "job_workflow_ref",
        "job_workflow_sha",
        "repository_visibility",
        "runner_environment",
      ],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid"],
    };
  }

  /** Signs arbitrary claims (RS256, header `{alg, kid, typ: "JWT", x5t}` like GitHub's). */
  sign(claims: Record<string, unknown>): string {
    const header = { typ: "JWT", alg: "RS256", x5t: this.kid, kid: this.kid };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signer = createSign("RSA-SHA256");
    signer.update(signingInput);
    return `${signingInput}.${signer.sign(this.#privateKey).toString("base64url")}`;
  }

  /** Builds GitHub's claims for a run and signs them. */
  issue(run: WorkflowRunIdentity, options: IssueOptions = {}): string {
    return this.sign(githubActionsClaims(run, options));
  }

  /** Verifies a token of this issuer (signature, kid, iss, time); returns its claims. */
  verify(token: string, now: Date = new Date()): GitHubOidcClaims {
    const { header, payload } = verifyRs256(token, this.publicKey);
    if (header.kid !== this.kid) throw new Error(`unknown kid ${String(header.kid)}`);
    if (payload.iss !== this.issuerUrl) throw new Error(`unexpected iss ${String(payload.iss)}`);
    const seconds = Math.floor(now.getTime() / 1000);
    if (typeof payload.exp !== "number" || seconds >= payload.exp) throw new Error("token expired");
    if (typeof payload.nbf !== "number" || seconds < payload.nbf) throw new Error("token not yet valid");
    return payload as GitHubOidcClaims;
  }
}
