/**
 * Turning schema issues into errors located at the YAML node they are about
 * (docs/config.md: every error names a file, line and column).
 */
import type { z } from "zod";
import { type LocatedError, locatedError, quote } from "./errors.js";
import type { StrictYamlDocument, YamlPath, YamlValue } from "./strict-yaml.js";

/** `roles.ec2-admin.requesters[0]`: how a path is written in messages. */
export function describePath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "the file" : out;
}

function valueAt(value: YamlValue, path: YamlPath): { found: boolean; value: YamlValue | undefined } {
  let current: YamlValue | undefined = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return { found: false, value: undefined };
    if (Array.isArray(current)) {
      if (typeof segment !== "number" || segment >= current.length) return { found: false, value: undefined };
      current = current[segment];
    } else {
      if (!Object.hasOwn(current, String(segment))) return { found: false, value: undefined };
      current = current[String(segment)];
    }
  }
  return { found: true, value: current };
}

function kindOf(value: YamlValue | undefined): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return "text";
}

const EXPECTED_WORDS: Record<string, string> = {
  string: "a text value",
  object: "a map of keys",
  record: "a map of keys",
  array: "a list",
};

/**
 * Turns zod issues into located errors at the YAML node each one is about:
 * unknown keys at the key, missing keys at the map that should hold them,
 * bad values at the value.
 */
export function locateSchemaIssues(
  issues: readonly z.core.$ZodIssue[],
  document: StrictYamlDocument,
  file: string,
): LocatedError[] {
  const errors: LocatedError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "invalid_union") {
      errors.push(...locateUnionIssue(issue, path, document, file));
      continue;
    }
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const where = path.length > 0 ? ` in ${describePath(path)}` : "";
        errors.push(
          locatedError(
            file,
            document.locateKey([...path, key]),
            `unknown key ${quote(key)}${where}; allowed keys: ${issue.message}`,
          ),
        );
      }
      continue;
    }
    const at = valueAt(document.value, path);
    if (issue.code === "invalid_type") {
      const name = describePath(path);
      const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
      if (!at.found) {
        const parent = path.length > 1 ? ` in ${describePath(path.slice(0, -1))}` : "";
        errors.push(
          locatedError(file, document.locate(path), `missing required key ${quote(String(path.at(-1)))}${parent}`),
        );
      } else if (at.value === null) {
        errors.push(locatedError(file, document.locate(path), `${name} is empty; it must be ${expected}`));
      } else {
        errors.push(locatedError(file, document.locate(path), `${name} must be ${expected}, not ${kindOf(at.value)}`));
      }
      continue;
    }
    errors.push(locatedError(file, document.locate(path), `${describePath(path)}: ${issue.message}`));
  }
  return errors;
}

/**
 * A value that fits none of a union's forms (`users.<login>`: text or a map).
 * The form of the same kind as the value (text, map) is the one the author
 * meant, so its issues are reported; a value of neither kind gets one error
 * naming the forms.
 */
function locateUnionIssue(
  issue: z.core.$ZodIssueInvalidUnion,
  path: (string | number)[],
  document: StrictYamlDocument,
  file: string,
): LocatedError[] {
  const sameKind = issue.errors.find(
    (branch) => !branch.some((inner) => inner.code === "invalid_type" && inner.path.length === 0),
  );
  if (sameKind) {
    const nested = sameKind.map((inner) => ({ ...inner, path: [...path, ...inner.path] }));
    return locateSchemaIssues(nested, document, file);
  }
  const at = valueAt(document.value, path);
  const forms = issue.errors
    .map((branch) => branch.find((inner) => inner.code === "invalid_type" && inner.path.length === 0))
    .map((inner) => (inner?.code === "invalid_type" ? (EXPECTED_WORDS[inner.expected] ?? inner.expected) : "?"))
    .join(" or ");
  const what = at.found && at.value === null ? "empty" : kindOf(at.value);
  return [locatedError(file, document.locate(path), `${describePath(path)} must be ${forms}, not ${what}`)];
}
