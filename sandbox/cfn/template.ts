/**
 * A mini CloudFormation for the sandbox: parses a template with its intrinsic
 * short tags, validates parameters, evaluates Rules and Conditions, and
 * resolves every intrinsic function against parameters, pseudo parameters and
 * the physical ids of the resources. Only what infra/template.yaml needs is
 * supported; anything else is a located error, never silently passed through.
 *
 * References (AWS CloudFormation User Guide):
 *   - "Intrinsic function reference"
 *     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 *   - "Pseudo parameters reference"
 *     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
 *   - "Parameters section" (AllowedPattern must match the whole value)
 *     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 *   - "Rules section"
 *     https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
 */
import { randomBytes } from "node:crypto";
import { type CollectionTag, isMap, isSeq, parseDocument, type ScalarTag, type YAMLMap, type YAMLSeq } from "yaml";

export class TemplateError extends Error {
  /** Where in the template: `Resources.GrantRole.Properties.Policies[0]`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "TemplateError";
    this.path = path;
  }
}

/** Short-form tags: `!Ref X` is `{Ref: X}`, `!Sub s` is `{"Fn::Sub": s}` and so on. */
const FN_TAGS = [
  "Base64",
  "FindInMap",
  "GetAtt",
  "If",
  "Equals",
  "Join",
  "Select",
  "Split",
  "Sub",
  "Not",
  "And",
  "Or",
] as const;

export function cfnTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [
    { tag: "!Ref", resolve: (value: string) => ({ Ref: value }) },
    { tag: "!Condition", resolve: (value: string) => ({ Condition: value }) },
  ];
  for (const name of FN_TAGS) {
    const key = `Fn::${name}`;
    tags.push({
      tag: `!${name}`,
      // `!GetAtt Role.Arn` is the dotted short form of `Fn::GetAtt: [Role, Arn]`.
      resolve: (value: string) => ({ [key]: name === "GetAtt" ? splitGetAtt(value) : value }),
    });
    tags.push({
      tag: `!${name}`,
      collection: "seq",
      resolve: (seq: YAMLSeq.Parsed | YAMLMap.Parsed) => ({ [key]: seq.toJSON() }),
    });
    tags.push({
      tag: `!${name}`,
      collection: "map",
      resolve: (map: YAMLSeq.Parsed | YAMLMap.Parsed) => ({ [key]: map.toJSON() }),
    });
  }
  return tags;
}

function splitGetAtt(value: string): [string, string] | string {
  const dot = value.indexOf(".");
  return dot < 0 ? value : [value.slice(0, dot), value.slice(dot + 1)];
}

export interface CfnParameter {
  Type: string;
  Default?: string;
  AllowedValues?: string[];
  AllowedPattern?: string;
  MinLength?: number;
  MaxLength?: number;
  Description?: string;
  ConstraintDescription?: string;
}

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Metadata?: unknown;
  Parameters?: Record<string, CfnParameter>;
  Rules?: Record<string, { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription?: string }[] }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Condition?: string; Description?: string; Export?: unknown }>;
}

const TOP_LEVEL = new Set([
  "AWSTemplateFormatVersion",
  "Description",
  "Metadata",
  "Parameters",
  "Rules",
  "Mappings",
  "Conditions",
  "Resources",
  "Outputs",
]);

/** Parses CloudFormation YAML (short tags included) into the long JSON form. */
export function parseTemplate(text: string, file = "template.yaml"): CfnTemplate {
  const parsed = parseDocument(text, { customTags: cfnTags(), uniqueKeys: true, prettyErrors: true });
  const problem = parsed.errors[0] ?? parsed.warnings[0];
  if (problem) {
    // An unknown tag is only a warning to the YAML parser; CloudFormation rejects it.
    const at = problem.linePos?.[0];
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    const what = problem.code === "TAG_RESOLVE_FAILED" ? "unsupported tag" : "not valid CloudFormation YAML";
    throw new TemplateError(where, `${what}: ${problem.message.split("\n")[0]}`);
  }
  const doc: unknown = parsed.toJS();
  if (!isPlainObject(doc)) throw new TemplateError(file, "the template must be a mapping");
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key)) throw new TemplateError(file, `unknown top-level section ${key}`);
  }
  if (!isPlainObject(doc.Resources) || Object.keys(doc.Resources).length === 0) {
    throw new TemplateError(`${file}: Resources`, "at least one resource is required");
  }
  for (const [id, resource] of Object.entries(doc.Resources)) {
    if (!isPlainObject(resource) || typeof resource.Type !== "string") {
      throw new TemplateError(`Resources.${id}`, "a resource needs a string Type");
    }
  }
  return doc as unknown as CfnTemplate;
}

export type ParameterValue = string | string[];

/**
 * Applies defaults and constraints to the caller's parameter values, as
 * CloudFormation does before anything is created.
 */
export function resolveParameters(template: CfnTemplate, given: Record<string, string>): Map<string, ParameterValue> {
  const declared = template.Parameters ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in declared)) throw new TemplateError(`Parameters.${name}`, "is not declared by the template");
  }
  const values = new Map<string, ParameterValue>();
  for (const [name, spec] of Object.entries(declared)) {
    const path = `Parameters.${name}`;
    const raw = given[name] ?? spec.Default;
    if (raw === undefined) throw new TemplateError(path, "has no value and no Default");
    if (typeof raw !== "string") throw new TemplateError(path, "values are strings");
    if (spec.Type === "String") {
      checkStringConstraints(path, spec, raw);
      values.set(name, raw);
    } else if (spec.Type === "CommaDelimitedList") {
      // "Each member string is space trimmed" (Parameters section, CommaDelimitedList).
      const list = raw.split(",").map((member) => member.trim());
      for (const member of list) checkStringConstraints(path, spec, member);
      values.set(name, list);
    } else if (spec.Type === "Number") {
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(raw)) throw new TemplateError(path, `${JSON.stringify(raw)} is not a number`);
      // AllowedPattern applies to String parameters only; the rest still apply.
      const { AllowedPattern: _pattern, ...numberSpec } = spec;
      checkStringConstraints(path, numberSpec, raw);
      values.set(name, raw);
    } else {
      throw new TemplateError(path, `parameter type ${spec.Type} is not supported by the sandbox deployer`);
    }
  }
  return values;
}

function checkStringConstraints(path: string, spec: CfnParameter, value: string): void {
  const hint = spec.ConstraintDescription ? ` (${spec.ConstraintDescription})` : "";
  if (spec.AllowedValues && !spec.AllowedValues.map(String).includes(value)) {
    throw new TemplateError(path, `${JSON.stringify(value)} is not one of ${spec.AllowedValues.join(", ")}${hint}`);
  }
  // CloudFormation matches AllowedPattern against the whole value.
  if (spec.AllowedPattern !== undefined && !new RegExp(`^(?:${spec.AllowedPattern})$`).test(value)) {
    throw new TemplateError(path, `${JSON.stringify(value)} does not match ${spec.AllowedPattern}${hint}`);
  }
  if (spec.MinLength !== undefined && value.length < spec.MinLength) {
    throw new TemplateError(path, `is shorter than ${spec.MinLength}${hint}`);
  }
  if (spec.MaxLength !== undefined && value.length > spec.MaxLength) {
    throw new TemplateError(path, `is longer than ${spec.MaxLength}${hint}`);
  }
}

/** What `Ref` and `Fn::GetAtt` return for one resource. */
export interface ResourceIdentity {
  ref: string;
  attributes: Record<string, string>;
}

export interface ResolveContext {
  parameters: Map<string, ParameterValue>;
  accountId: string;
  region: string;
  partition: string;
  stackName: string;
  conditions: ConditionLookup;
  /** Resources known so far; referring to any other resource is an error. */
  resources: Map<string, ResourceIdentity>;
  mappings: CfnTemplate["Mappings"];
}

/** Evaluated conditions by name (a Map, or an on-demand evaluator). */
export interface ConditionLookup {
  get(name: string): boolean | undefined;
}

/** Marker for `Ref: AWS::NoValue`: removed from the enclosing list or mapping. */
const NO_VALUE = Symbol("AWS::NoValue");

function pseudo(ctx: ResolveContext, name: string): string | undefined {
  switch (name) {
    case "AWS::AccountId":
      return ctx.accountId;
    case "AWS::Region":
      return ctx.region;
    case "AWS::Partition":
      return ctx.partition;
    case "AWS::StackName":
      return ctx.stackName;
    case "AWS::StackId":
      return `arn:${ctx.partition}:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/sandbox`;
    case "AWS::URLSuffix":
      return ctx.partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
    default:
      return undefined;
  }
}

function ref(ctx: ResolveContext, name: unknown, path: string): ParameterValue | typeof NO_VALUE {
  if (typeof name !== "string") throw new TemplateError(path, "Ref takes a logical id or parameter name");
  if (name === "AWS::NoValue") return NO_VALUE;
  const p = pseudo(ctx, name);
  if (p !== undefined) return p;
  const parameter = ctx.parameters.get(name);
  if (parameter !== undefined) return parameter;
  const resource = ctx.resources.get(name);
  if (resource) return resource.ref;
  throw new TemplateError(path, `Ref to unknown or not yet created ${name}`);
}

function getAtt(ctx: ResolveContext, arg: unknown, path: string): string {
  const pair = typeof arg === "string" ? splitGetAtt(arg) : arg;
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
    throw new TemplateError(path, "Fn::GetAtt takes [LogicalId, Attribute]");
  }
  const [id, attribute] = pair as [string, string];
  const resource = ctx.resources.get(id);
  if (!resource) throw new TemplateError(path, `Fn::GetAtt on unknown or not yet created ${id}`);
  const value = resource.attributes[attribute];
  if (value === undefined) throw new TemplateError(path, `${id} has no attribute ${attribute}`);
  return value;
}

/** `${Name}`, `${Res.Attr}` and the literal escape `${!Text}` (Fn::Sub). */
function sub(ctx: ResolveContext, arg: unknown, path: string): string {
  let text: unknown = arg;
  let vars: Record<string, unknown> = {};
  if (Array.isArray(arg)) {
    if (arg.length !== 2 || !isPlainObject(arg[1]))
      throw new TemplateError(path, "Fn::Sub takes a string or [string, {vars}]");
    text = arg[0];
    vars = arg[1];
  }
  if (typeof text !== "string") throw new TemplateError(path, "Fn::Sub needs a string");
  return text.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) => {
    if (inner.startsWith("!")) return `\${${inner.slice(1)}}`;
    const name = inner.trim();
    if (name in vars) {
      const value = resolveValue(ctx, vars[name], `${path}.${name}`);
      if (typeof value !== "string") throw new TemplateError(path, `Fn::Sub variable ${name} is not a string`);
      return value;
    }
    if (name.includes(".")) return getAtt(ctx, name, path);
    const value = ref(ctx, name, path);
    if (typeof value !== "string") throw new TemplateError(path, `Fn::Sub cannot insert ${name}: not a string`);
    return value;
  });
}

export function evaluateCondition(ctx: ResolveContext, name: unknown, path: string): boolean {
  if (typeof name !== "string") throw new TemplateError(path, "a condition name must be a string");
  const value = ctx.conditions.get(name);
  if (value === undefined) throw new TemplateError(path, `unknown condition ${name}`);
  return value;
}

function asBoolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new TemplateError(path, "expected a condition (Fn::Equals, Fn::Not, …)");
  return value;
}

/** Resolves every intrinsic function in `value`. */
export function resolveValue(ctx: ResolveContext, value: unknown, path: string): unknown {
  const resolved = resolveInner(ctx, value, path);
  if (resolved === NO_VALUE) throw new TemplateError(path, "AWS::NoValue is only allowed inside a list or mapping");
  return resolved;
}

function resolveInner(ctx: ResolveContext, value: unknown, path: string): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((item, index) => {
      const resolved = resolveInner(ctx, item, `${path}[${index}]`);
      if (resolved !== NO_VALUE) out.push(resolved);
    });
    return out;
  }
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const key = keys[0] as string;
    const arg = value[key];
    const here = `${path}.${key}`;
    if (key === "Ref") return ref(ctx, arg, here);
    if (key === "Condition" && typeof arg === "string") return evaluateCondition(ctx, arg, here);
    if (key.startsWith("Fn::")) return intrinsic(ctx, key, arg, here);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const resolved = resolveInner(ctx, v, `${path}.${k}`);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

function intrinsic(ctx: ResolveContext, fn: string, arg: unknown, path: string): unknown {
  const list = (n: number): unknown[] => {
    if (!Array.isArray(arg) || arg.length !== n) throw new TemplateError(path, `${fn} takes a list of ${n}`);
    return arg;
  };
  switch (fn) {
    case "Fn::Sub":
      return sub(ctx, arg, path);
    case "Fn::GetAtt":
      return getAtt(ctx, arg, path);
    case "Fn::If": {
      const [name, whenTrue, whenFalse] = list(3);
      return resolveInner(ctx, evaluateCondition(ctx, name, path) ? whenTrue : whenFalse, path);
    }
    case "Fn::Equals": {
      const [a, b] = list(2).map((item, i) => resolveValue(ctx, item, `${path}[${i}]`));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case "Fn::Not":
      return !asBoolean(resolveValue(ctx, list(1)[0], path), path);
    case "Fn::And":
    case "Fn::Or": {
      if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10)
        throw new TemplateError(path, `${fn} takes 2 to 10 conditions`);
      const values = arg.map((item, i) => asBoolean(resolveValue(ctx, item, `${path}[${i}]`), path));
      return fn === "Fn::And" ? values.every(Boolean) : values.some(Boolean);
    }
    case "Fn::Join": {
      const [delimiter, items] = list(2);
      const resolved = resolveValue(ctx, items, path);
      if (typeof delimiter !== "string" || !Array.isArray(resolved) || !resolved.every((s) => typeof s === "string")) {
        throw new TemplateError(path, "Fn::Join takes [delimiter, [strings]]");
      }
      return resolved.join(delimiter);
    }
    case "Fn::Select": {
      const [index, items] = list(2).map((item, i) => resolveValue(ctx, item, `${path}[${i}]`));
      const i = Number(index);
      if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new TemplateError(path, "Fn::Select index out of range");
      }
      return items[i];
    }
    case "Fn::Split": {
      const [delimiter, source] = list(2);
      const text = resolveValue(ctx, source, path);
      if (typeof delimiter !== "string" || typeof text !== "string")
        throw new TemplateError(path, "Fn::Split takes [delimiter, string]");
      return text.split(delimiter);
    }
    case "Fn::Base64": {
      const text = resolveValue(ctx, arg, path);
      if (typeof text !== "string") throw new TemplateError(path, "Fn::Base64 takes a string");
      return Buffer.from(text, "utf8").toString("base64");
    }
    case "Fn::FindInMap": {
      const [map, top, second] = list(3).map((item, i) => resolveValue(ctx, item, `${path}[${i}]`));
      const value = ctx.mappings?.[String(map)]?.[String(top)]?.[String(second)];
      if (value === undefined)
        throw new TemplateError(path, `no mapping ${String(map)}.${String(top)}.${String(second)}`);
      return value;
    }
    default:
      throw new TemplateError(path, `${fn} is not supported by the sandbox deployer`);
  }
}

/** Evaluates every entry of `Conditions` (conditions may refer to each other). */
export function evaluateConditions(template: CfnTemplate, ctx: ResolveContext): Map<string, boolean> {
  const defs = template.Conditions ?? {};
  const done = new Map<string, boolean>();
  const visiting = new Set<string>();
  const evaluate = (name: string, path: string): boolean => {
    const known = done.get(name);
    if (known !== undefined) return known;
    if (!(name in defs)) throw new TemplateError(path, `unknown condition ${name}`);
    if (visiting.has(name)) throw new TemplateError(`Conditions.${name}`, "refers to itself");
    visiting.add(name);
    // Conditions may refer to other conditions: evaluate those on demand.
    const lazy: ResolveContext = { ...ctx, conditions: { get: (key) => evaluate(key, `Conditions.${name}`) } };
    const value = asBoolean(resolveValue(lazy, defs[name], `Conditions.${name}`), `Conditions.${name}`);
    visiting.delete(name);
    done.set(name, value);
    return value;
  };
  for (const name of Object.keys(defs)) evaluate(name, `Conditions.${name}`);
  return done;
}

/** Checks the template's Rules; a failed assertion stops the deployment. */
export function checkRules(template: CfnTemplate, ctx: ResolveContext): void {
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    const path = `Rules.${name}`;
    if (rule.RuleCondition !== undefined && !asBoolean(resolveValue(ctx, rule.RuleCondition, path), path)) continue;
    rule.Assertions.forEach((assertion, i) => {
      if (!asBoolean(resolveValue(ctx, assertion.Assert, `${path}.Assertions[${i}]`), path)) {
        throw new TemplateError(`${path}.Assertions[${i}]`, assertion.AssertDescription ?? "assertion failed");
      }
    });
  }
}

/** Logical ids a value refers to through Ref, Fn::GetAtt or Fn::Sub. */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, out);
  } else if (isPlainObject(value)) {
    for (const [key, arg] of Object.entries(value)) {
      if (key === "Ref" && typeof arg === "string") out.add(arg);
      else if (key === "Fn::GetAtt") {
        const pair = typeof arg === "string" ? splitGetAtt(arg) : arg;
        if (Array.isArray(pair) && typeof pair[0] === "string") out.add(pair[0]);
      } else if (key === "Fn::Sub") {
        const text = Array.isArray(arg) ? arg[0] : arg;
        // The [string, {vars}] form: its own variables are not references.
        const local = Array.isArray(arg) && isPlainObject(arg[1]) ? new Set(Object.keys(arg[1])) : new Set<string>();
        if (typeof text === "string") {
          for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const id = (match[1] as string).trim().split(".")[0] as string;
            if (!local.has(id)) out.add(id);
          }
        }
        referencedIds(Array.isArray(arg) ? arg.slice(1) : arg, out);
      } else referencedIds(arg, out);
    }
  }
  return out;
}

/** Resource logical ids in creation order (dependencies first). */
export function creationOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, from: string): void => {
    const s = state.get(id);
    if (s === "done") return;
    if (s === "visiting") throw new TemplateError(`Resources.${from}`, `circular dependency through ${id}`);
    state.set(id, "visiting");
    const resource = template.Resources[id] as CfnResource;
    const deps = referencedIds(resource.Properties);
    for (const d of [resource.DependsOn ?? []].flat()) deps.add(d);
    for (const dep of deps) {
      if (dep in template.Resources) visit(dep, id);
      else if (!(dep in (template.Parameters ?? {})) && !dep.startsWith("AWS::")) {
        throw new TemplateError(`Resources.${id}`, `refers to unknown ${dep}`);
      }
    }
    state.set(id, "done");
    order.push(id);
  };
  for (const id of ids) visit(id, id);
  return order;
}

/** CloudFormation-style generated physical name: `<stack>-<logical id>-<suffix>`. */
export function generatedName(stackName: string, logicalId: string, maxLength: number): string {
  const suffix = randomBytes(8).toString("hex").toUpperCase().slice(0, 12);
  const head = `${stackName}-${logicalId}`.slice(0, Math.max(1, maxLength - suffix.length - 1));
  return `${head}-${suffix}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isMap(value) && !isSeq(value);
}
