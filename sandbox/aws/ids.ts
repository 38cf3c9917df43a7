import { randomBytes, randomUUID } from "node:crypto";

const ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** IAM unique ids and access keys: a 4-letter prefix (AIDA, AROA, AKIA, ASIA) + base32-like tail. */
/**
 * IAM unique ids: user ids AIDA…, role ids AROA… (21 characters); access key ids
 * AKIA… (long-term) and ASIA… (temporary) (20 characters). See "IAM identifiers",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes
 */
export function iamId(prefix: "AIDA" | "AROA" | "AKIA" | "ASIA"): string {
  const length = prefix === "AKIA" || prefix === "ASIA" ? 20 : 21;
  const bytes = randomBytes(length - prefix.length);
  let out = prefix;
  for (const b of bytes) out += ALNUM_UPPER[b % ALNUM_UPPER.length];
  return out;
}

export function secretKey(): string {
  return randomBytes(30)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 40)
    .padEnd(40, "x");
}

export function sessionToken(): string {
  return `IQoJb3JpZ2luX2VjE${randomBytes(96).toString("base64")}`;
}

export function requestId(): string {
  return randomUUID();
}
