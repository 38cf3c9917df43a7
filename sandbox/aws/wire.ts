/**
 * Wire formats of the AWS protocols the sandbox speaks.
 *
 * - AWS query protocol (IAM, STS, SNS): form-encoded POST body with `Action` and
 *   `Version`; lists as `Name.member.N`; XML responses
 *   `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`; errors as
 *   `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 *   https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 * - AWS JSON 1.1 (SSM): `X-Amz-Target: AmazonSSM.<Action>`, JSON body, errors as
 *   `{"__type": "...", "message": "..."}`, timestamps as epoch seconds.
 *   https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 */
import { AwsServiceError } from "./errors.js";

export type QueryParams = Map<string, string>;

export function parseForm(body: string): QueryParams {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
  return params;
}

/** A required scalar query parameter. */
export function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === "") {
    throw new AwsServiceError(
      "ValidationError",
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optional(params: QueryParams, name: string): string | undefined {
  const value = params.get(name);
  return value === undefined || value === "" ? undefined : value;
}

export function optionalInt(params: QueryParams, name: string): number | undefined {
  const raw = optional(params, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw))
    throw new AwsServiceError("ValidationError", `Value '${raw}' at '${lowerFirst(name)}' is not an integer`);
  return Number(raw);
}

/** `Name.member.1`, `Name.member.2`, … in order. */
export function memberList(params: QueryParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const value = params.get(`${name}.member.${i}`);
    if (value === undefined) return out;
    out.push(value);
  }
}

/** `Tags.member.N.Key` / `.Value` pairs. */
export function tagList(params: QueryParams, name = "Tags"): { Key: string; Value: string }[] {
  const out: { Key: string; Value: string }[] = [];
  for (let i = 1; ; i++) {
    const key = params.get(`${name}.member.${i}.Key`);
    if (key === undefined) return out;
    out.push({ Key: key, Value: params.get(`${name}.member.${i}.Value`) ?? "" });
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : c === "'" ? "&apos;" : "&quot;",
  );
}

/** A value the XML renderer understands: arrays become `<member>` lists (query protocol's default list shape). */
export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | XmlValue[]
  | { [key: string]: XmlValue | undefined }
  | undefined;

export function toXml(value: XmlValue): string {
  if (value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  }
  return escapeXml(String(value));
}

export function queryResponse(action: string, xmlns: string, result: XmlValue | null, requestId: string): string {
  const resultXml = result === null ? "" : `<${action}Result>${toXml(result)}</${action}Result>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">${resultXml}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(error: AwsServiceError, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${error.fault}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

export function jsonError(error: AwsServiceError): string {
  return JSON.stringify({ __type: error.code, message: error.message });
}

/** JSON 1.1 timestamps are epoch seconds (fractions allowed). */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
