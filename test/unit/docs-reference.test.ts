/**
 * The repository documents itself (issue 13 §4):
 *   - docs/config.md lists every key of the config schema (src/domain/config.ts), and
 *     nothing else, with the built-in defaults the code applies: the test walks the zod
 *     schema, so a new key without documentation fails here;
 *   - docs/request-file.md lists every request key;
 *   - nothing in the repository points readers at a spec file that does not ship with it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { BREAK_GLASS_MAX_DURATION, BUILT_IN_DEFAULTS, configSchema } from "../../src/domain/config.js";
import { REQUEST_KEYS } from "../../src/domain/request.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every key path of a schema: maps and records recurse, `<login>` / `<key>` stand for record keys. */
function schemaKeys(schema: z.ZodType, prefix: string, out: string[], recordKey: (path: string) => string): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
      return schemaKeys(def.innerType as z.ZodType, prefix, out, recordKey);
    case "pipe":
      return schemaKeys(def.in as z.ZodType, prefix, out, recordKey);
    case "union": // `users.<login>`: text, or a map whose keys are documented
      for (const option of def.options ?? []) schemaKeys(option, prefix, out, recordKey);
      return out;
    case "object":
      for (const [key, value] of Object.entries(def.shape ?? {})) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.push(path);
        schemaKeys(value, path, out, recordKey);
      }
      return out;
    case "record": {
      const path = `${prefix}.${recordKey(prefix)}`;
      out.push(path);
      return schemaKeys(def.valueType as z.ZodType, path, out, recordKey);
    }
    default:
      return out;
  }
}

interface Row {
  key: string;
  required: string;
  defaultValue: string;
}

/** The first-column keys of a reference table, with their required and default columns. */
function documentedRows(file: string): Row[] {
  const text = readFileSync(join(ROOT, "docs", file), "utf8");
  return [...text.matchAll(/^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|/gm)].map((m) => ({
    key: m[1] as string,
    required: (m[2] as string).trim(),
    defaultValue: (m[3] as string).trim(),
  }));
}

describe("docs/config.md", () => {
  const keys = schemaKeys(configSchema as unknown as z.ZodType, "", [], (path) =>
    path === "users" ? "<login>" : "<key>",
  );
  const rows = documentedRows("config.md");
  const documented = rows.map((row) => row.key);

  it("the schema walk sees the nested keys (so the comparison below means something)", () => {
    expect(keys).toContain("aws.region");
    expect(keys).toContain("roles.<key>.arn");
    expect(keys).toContain("roles.<key>.awsApproval.minApprovals");
    expect(keys.length).toBeGreaterThan(25);
  });

  it("documents every key of the schema", () => {
    expect(keys.filter((key) => !documented.includes(key))).toEqual([]);
  });

  it("documents no key the schema does not have, and each once", () => {
    expect(documented.filter((key) => !keys.includes(key))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it("marks exactly the keys the schema requires as required", () => {
    const optional = (path: string) => {
      const segments = path.split(".");
      let schema = configSchema as unknown as z.ZodType;
      let isOptional = false;
      for (const segment of segments) {
        let def = defOf(schema);
        while (def.type === "optional" || def.type === "pipe") {
          schema = (def.innerType ?? def.in) as z.ZodType;
          def = defOf(schema);
        }
        const shape =
          def.type === "union" ? def.options?.map((o) => defOf(o).shape).find((sh) => sh?.[segment]) : def.shape;
        const next = segment.startsWith("<") ? def.valueType : shape?.[segment];
        if (!next) throw new Error(`no ${segment} in ${path}`);
        schema = next;
        isOptional = segment.startsWith("<") || defOf(next).type === "optional";
      }
      return isOptional;
    };
    for (const row of rows)
      expect(`${row.key}: ${row.required}`).toBe(`${row.key}: ${optional(row.key) ? "" : "required"}`);
  });

  it("states the built-in defaults the code applies", () => {
    const byKey = new Map(rows.map((row) => [row.key, row.defaultValue]));
    for (const [key, value] of Object.entries(BUILT_IN_DEFAULTS)) {
      expect(byKey.get(`defaults.${key}`)).toBe(`\`${String(value)}\``);
      expect(byKey.get(`roles.<key>.${key}`)).toBe(`\`defaults.${key}\``);
    }
    expect(byKey.get("roles.<key>.breakGlass.maxDuration")).toBe(`\`${BREAK_GLASS_MAX_DURATION}\``);
  });
});

describe("docs/request-file.md", () => {
  it("documents exactly the request keys", () => {
    expect(documentedRows("request-file.md").map((row) => row.key)).toEqual([...REQUEST_KEYS]);
  });
});

describe("the repository is self-contained", () => {
  // Spelt in two parts so that this file does not match itself.
  const SPEC = ["DESIGN", "md"].join(".");

  it(`never mentions ${SPEC}, which does not ship with it`, () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
      .split("\0")
      .filter((path) => path && !/\.(png|jpg|ico|tgz)$/.test(path));
    expect(files.length).toBeGreaterThan(100);
    const mentions = files.filter((path) => {
      try {
        return readFileSync(join(ROOT, path), "utf8").includes(SPEC);
      } catch {
        return false; // listed but deleted in the working tree
      }
    });
    expect(mentions).toEqual([]);
  });
});
