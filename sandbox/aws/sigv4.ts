/**
 * SigV4 request verification: recomputes the signature the way the AWS docs
 * define it ("Create a signed AWS API request", Signature Version 4,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
 * and compares in constant time. The secret comes from the sandbox's own
 * credential store, so a valid signature proves which identity made the call.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Why a request failed authentication; the server maps it to each protocol's error code. */
export type AuthFailure =
  | { kind: "missing"; message: string }
  | { kind: "malformed"; message: string }
  | { kind: "unknown-key"; message: string }
  | { kind: "bad-signature"; message: string }
  | { kind: "bad-token"; message: string }
  | { kind: "expired"; message: string };

export class AuthError extends Error {
  readonly failure: AuthFailure;
  constructor(failure: AuthFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_-]+),\s*Signature=([0-9a-f]{64})$/;

export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (!header) throw new AuthError({ kind: "missing", message: "Request is missing Authentication Token" });
  const m = AUTH_RE.exec(header.trim());
  if (!m) {
    throw new AuthError({ kind: "malformed", message: `Authorization header is not a valid AWS4-HMAC-SHA256 header` });
  }
  return {
    accessKeyId: m[1]!,
    date: m[2]!,
    region: m[3]!,
    service: m[4]!,
    signedHeaders: m[5]!.split(";"),
    signature: m[6]!,
  };
}

/** RFC 3986 encoding as SigV4 requires (encodeURIComponent leaves !'()* alone). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(search: string): string {
  if (!search) return "";
  const pairs: [string, string][] = [];
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, " "));
    const v = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    pairs.push([uriEncode(k), uriEncode(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/**
 * Non-S3 services double-encode the path: each segment of the path as sent
 * (already URI-encoded by the client) is encoded once more ("Create a canonical
 * request": "Each path segment must be URI-encoded twice").
 */
function canonicalPath(path: string): string {
  if (path === "" || path === "/") return "/";
  return path
    .split("/")
    .map((seg) => uriEncode(seg))
    .join("/");
}

export interface SignedRequestParts {
  method: string;
  /** Raw request target: path plus `?query`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/**
 * Verifies `request` was signed with `secretAccessKey`. Throws AuthError on mismatch.
 * `auth` is the parsed Authorization header of the same request.
 */
export function verifySignature(request: SignedRequestParts, auth: ParsedAuthorization, secretAccessKey: string): void {
  const amzDate = headerValue(request.headers, "x-amz-date");
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== auth.date) {
    throw new AuthError({
      kind: "malformed",
      message: "X-Amz-Date is missing or does not match the credential scope date",
    });
  }
  if (!auth.signedHeaders.includes("host")) {
    throw new AuthError({ kind: "malformed", message: "Host header must be signed" });
  }
  const bodyHash = sha256Hex(request.body);
  const declaredHash = headerValue(request.headers, "x-amz-content-sha256");
  if (declaredHash !== undefined && declaredHash !== bodyHash && declaredHash !== "UNSIGNED-PAYLOAD") {
    throw new AuthError({
      kind: "bad-signature",
      message: "The provided x-amz-content-sha256 header does not match the body",
    });
  }
  const canonicalHeaders = auth.signedHeaders
    .map((name) => {
      const value = headerValue(request.headers, name);
      if (value === undefined) {
        throw new AuthError({ kind: "bad-signature", message: `Signed header '${name}' is missing from the request` });
      }
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const qIndex = request.url.indexOf("?");
  const path = qIndex < 0 ? request.url : request.url.slice(0, qIndex);
  const query = qIndex < 0 ? "" : request.url.slice(qIndex + 1);
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    auth.signedHeaders.join(";"),
    declaredHash ?? bodyHash,
  ].join("\n");
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const kDate = hmac(`AWS4${secretAccessKey}`, auth.date);
  const kRegion = hmac(kDate, auth.region);
  const kService = hmac(kRegion, auth.service);
  const kSigning = hmac(kService, "aws4_request");
  const expected = createHmac("sha256", kSigning).update(stringToSign, "utf8").digest();
  const given = Buffer.from(auth.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthError({
      kind: "bad-signature",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    });
  }
}

export function headerValue(headers: SignedRequestParts["headers"], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}
