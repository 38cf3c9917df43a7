/**
 * A request file as `elevate request` writes it: a readable id and the YAML
 * text, which is loaded back with the strict loader before it is returned.
 */
import { parse as parseYaml, Scalar, Document as YamlDocument } from "yaml";
import { REQUEST_ID } from "./request-path.js";
import { parseStrictYaml } from "./strict-yaml.js";

const ID_SUFFIX_CHARS = 4;

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * A readable id: `<login>-<role>-<yyyymmdd>-<4 random base36>`, lower-cased,
 * with the login and role part cut so the whole fits `REQUEST_ID` (at most 63).
 * The date is the UTC day the request is written.
 */
export function generateRequestId(input: { login: string; role: string; now: Date; random: () => number }): string {
  let suffixChars = "";
  for (let i = 0; i < ID_SUFFIX_CHARS; i++) suffixChars += Math.floor(input.random() * 36).toString(36);
  const day = input.now.toISOString().slice(0, 10).replace(/-/g, "");
  const suffix = `-${day}-${suffixChars}`;
  const head = slug(`${input.login}-${input.role}`)
    .slice(0, 63 - suffix.length)
    .replace(/-+$/, "");
  const id = `${head || "request"}${suffix}`;
  if (!REQUEST_ID.test(id))
    throw new Error(`generateRequestId produced ${JSON.stringify(id)}, which breaks the id rule`);
  return id;
}

export interface RequestFields {
  requester: string;
  role: string;
  duration: string;
  reason: string;
  ticket?: string | undefined;
  start?: string | undefined;
}

/**
 * True when `text` written as a plain YAML scalar reads back as exactly the
 * same string under both YAML 1.2 (core schema) and YAML 1.1, whose booleans
 * (`on`, `yes`), octals (`0123`) and timestamps other tools still apply
 * (https://yaml.org/type/bool.html). Anything else is double-quoted.
 */
function staysStringWhenPlain(text: string): boolean {
  if (text === "" || text !== text.trim()) return false;
  for (const version of ["1.1", "1.2"] as const) {
    try {
      if (parseYaml(text, { version, logLevel: "error" }) !== text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The request file's text. Field order follows docs/request-file.md; every value is a
 * string, plain where that is unambiguous and double-quoted otherwise. The
 * output is loaded back with the strict loader and compared field by field,
 * so a quoting mistake can never write a file that means something else.
 */
export function requestYaml(fields: RequestFields): string {
  const ordered: [string, string][] = [
    ["requester", fields.requester],
    ["role", fields.role],
    ["duration", fields.duration],
    ["reason", fields.reason],
  ];
  if (fields.ticket !== undefined) ordered.push(["ticket", fields.ticket]);
  if (fields.start !== undefined) ordered.push(["start", fields.start]);
  const document = new YamlDocument({});
  for (const [key, value] of ordered) {
    const scalar = new Scalar(value);
    scalar.type = staysStringWhenPlain(value) ? Scalar.PLAIN : Scalar.QUOTE_DOUBLE;
    document.set(key, scalar);
  }
  const text = document.toString({ lineWidth: 0 });
  const check = parseStrictYaml(text);
  const loaded = check.ok ? check.document.value : undefined;
  const same =
    loaded !== undefined &&
    loaded !== null &&
    typeof loaded === "object" &&
    !Array.isArray(loaded) &&
    Object.keys(loaded).length === ordered.length &&
    ordered.every(([key, value]) => loaded[key] === value);
  if (!same) {
    throw new Error(`requestYaml: the written YAML does not load back to the same fields:\n${text}`);
  }
  return text;
}
