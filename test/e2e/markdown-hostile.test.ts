/**
 * Invariant 10 through the action bundle: nothing from a PR or a dispatch
 * renders as Markdown or HTML in what the bot writes. Hostile file names and
 * request ids (grant and check), a hostile reason, ticket and role (break-glass
 * dispatch) go through the real runs; what they write (PR comments, the review
 * issue, step summaries) is rendered with micromark + GFM and must show the
 * hostile text as text: no link, image, HTML, code span or table break of
 * theirs, and no mention or issue reference GitHub's filters would pick up.
 */
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventEnvelope, workflowDispatchEvent } from "../../sandbox/harness/events.js";
import { type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { E2E_TIMEOUT_MS, errors, startWorld } from "./grant-support.js";

const BREAK_GLASS_WORKFLOW = ".github/workflows/elevate-breakglass.yml";
const ROLE_ARN = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";

/** Names an attacker can commit under requests/ (git allows all of this in a path segment). */
const HOSTILE_NAMES = [
  "@carol <img src=x onerror=alert(1)> [x](javascript:alert(1)) `tick` | #1 www.evil.example &#64;bob.yaml",
  "line\n- [ ] ![i](data:x) **bold** <!-- c --> ``` $x$ ~~s~~.yaml",
];
const HOSTILE_FILES = HOSTILE_NAMES.map((name) => `requests/ec2-admin/${name}`);

const HOSTILE_REASON =
  "Outage: @acme/sre <img src=x onerror=alert(1)> [x](https://evil.example) | `a` ![i](http://e/p.png) &#64;bob www.evil.example #12";
const HOSTILE_TICKET = "https://evil.example/#12";

let world: ElevateWorld;

beforeAll(async () => {
  world = await startWorld({
    extraRoles: [
      "  breakglass-admin:",
      `    arn: ${ROLE_ARN}`,
      "    breakGlass:",
      "      maxDuration: 1h",
      "      requesters: [bob]",
    ].join("\n"),
  });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await world?.close();
});

function render(markdown: string): string {
  return micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

/** The visible text of rendered HTML: tags stripped, entities decoded, zero-width breaks removed. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\u200b/g, "");
}

/**
 * Nothing hostile came alive: no element the hostile text could make, no
 * link (the bot writes none in these), and no mention, reference or autolink trigger
 * left in the text that GitHub's filters read.
 */
function expectInert(markdown: string): void {
  const html = render(markdown);
  // (<em> and <strong> are the bot's own: a footer, bold request ids.)
  expect(html).not.toMatch(/<(img|script|del|input|sup|section|b)\b/);
  expect(html).not.toMatch(/<[^>]*(onerror|javascript:|data:x)/);
  expect(html).not.toMatch(/<a /);
  for (const [, code] of html.matchAll(/<code>([^<]*)<\/code>/g)) expect(code).not.toMatch(/tick|bold|\$x\$/);
  const text = html.replace(/<[^>]*>/g, "");
  expect(text).not.toMatch(/[@#](?!\u200b)/);
  expect(text).not.toMatch(/www\./);
}

function dispatch(inputs: Record<string, string>): EventEnvelope {
  return workflowDispatchEvent({
    repository: world.scenario.webhookRepository(),
    sender: "bob",
    sha: world.scenario.mainSha(),
    workflowPath: BREAK_GLASS_WORKFLOW,
    inputs,
  });
}

describe("hostile text from a PR renders as text", { timeout: E2E_TIMEOUT_MS }, () => {
  it("file names and request ids in the plan comment, the grant comment, summaries and annotations", async () => {
    const pr = world.scenario.openRequestPr({
      author: "alice",
      files: Object.fromEntries(HOSTILE_FILES.map((file) => [file, requestYaml({ requester: "alice" })])),
    });
    pr.approve("bob");

    const check = await world.runAction("check", pr.pullRequestEvent());
    expect(check.exitCode).not.toBe(0);
    const plan = world.github.comments(world.repository, pr.number).at(-1)?.body ?? "";
    expectInert(plan);
    expectInert(check.summary);
    const planText = visibleText(render(plan));
    for (const file of HOSTILE_FILES) expect(planText).toContain(file.replace(/\n/g, " "));

    const grant = await world.runAction("grant", pr.merge("merge").pushEvent);
    expect(grant.exitCode).not.toBe(0);
    const comment = world.github.comments(world.repository, pr.number).at(-1)?.body ?? "";
    expect(comment).toContain("### Elevate grant");
    expectInert(comment);
    expectInert(grant.summary);
    const commentText = visibleText(render(comment));
    for (const file of HOSTILE_FILES) expect(commentText).toContain(file.replace(/\n/g, " "));
    // Annotations are plain text; the workflow-command escaping keeps each file name whole.
    for (const file of HOSTILE_FILES) expect(errors(grant).map((a) => a.file)).toContain(file);
    expect(world.grantPolicies("alice.smith")).toEqual([]);
  });
});

describe("hostile dispatch inputs render as text", { timeout: E2E_TIMEOUT_MS }, () => {
  it("a break-glass reason and ticket in the review issue and the summary", async () => {
    const run = await world.runAction(
      "grant",
      dispatch({ role: "breakglass-admin", duration: "30m", reason: HOSTILE_REASON, ticket: HOSTILE_TICKET }),
      { oidc: { workflowPath: BREAK_GLASS_WORKFLOW } },
    );
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const issue = world.github.issues(world.repository).at(-1);
    expect(issue?.body).toBeDefined();
    const body = issue?.body ?? "";
    const html = render(body);
    const row = (name: string) => new RegExp(`<td>${name}</td>\\n<td>([^]*?)</td>`).exec(html)?.[1];
    // Exactly the dispatcher's text, in one cell, with no element of its own.
    expect(row("Reason")).not.toMatch(/</);
    expect(visibleText(row("Reason") ?? "")).toBe(HOSTILE_REASON);
    expect(row("Ticket")).not.toMatch(/</);
    expect(visibleText(row("Ticket") ?? "")).toBe(HOSTILE_TICKET);
    // The rows the bot writes stay intact: the hostile `|` split nothing.
    expect(row("Grant policy")).toMatch(/^<code>elevate-breakglass-\d+<\/code>$/);
    expect(row("Reason")).not.toMatch(/[@#](?!\u200b)/);
    expect(row("Ticket")).not.toMatch(/[@#](?!\u200b)|:\/\//);
  });

  it("a refused dispatch quotes its hostile inputs as text", async () => {
    const run = await world.runAction(
      "grant",
      dispatch({ role: "<b>x</b>@carol", duration: "`1h` [x](y)", reason: HOSTILE_REASON }),
      { oidc: { workflowPath: BREAK_GLASS_WORKFLOW } },
    );
    expect(run.exitCode).not.toBe(0);
    expect(run.summary).toContain("refused");
    expect(render(run.summary)).not.toMatch(/<b>/);
    expectInert(run.summary);
  });
});
