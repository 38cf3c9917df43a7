// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ }}" here is GitHub Actions expression syntax, not a JS template.
/**
 * The three workflows `elevate init` writes into an access repository. They are the
 * shipped .github/workflows files with the action referenced remotely; a test keeps
 * both in step (test/unit/init-scaffold.test.ts), and `elevate doctor` checks either.
 */

/** actions/checkout v5.0.0, pinned by commit as every action in these workflows. */
export const CHECKOUT_ACTION = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0";
/** actions/create-github-app-token v2.2.1: a fresh, one-hour installation token per job. */
export const APP_TOKEN_ACTION = "actions/create-github-app-token@29824e69f54612133e76f7eaac726eef6c875baf # v2.2.1";

/** The repository variable holding the members App's id; the App token steps run only when it is set. */
export const MEMBERS_APP_ID_VARIABLE = "ELEVATE_MEMBERS_APP_ID";
/** The repository secret holding that App's private key. */
export const MEMBERS_APP_KEY_SECRET = "ELEVATE_MEMBERS_APP_KEY";

/** Mints the members token for this job (see docs/adoption.md "Team owners need a members-token"). */
function membersTokenStep(indent: string): string {
  return [
    "- name: Token that can read team membership (optional GitHub App, Members read)",
    "  id: members-token",
    "  # Skipped until the App is set up; team code owners then fail closed, users still work.",
    `  if: vars.${MEMBERS_APP_ID_VARIABLE} != ''`,
    `  uses: ${APP_TOKEN_ACTION}`,
    "  with:",
    `    app-id: \${{ vars.${MEMBERS_APP_ID_VARIABLE} }}`,
    `    private-key: \${{ secrets.${MEMBERS_APP_KEY_SECRET} }}`,
    "    owner: ${{ github.repository_owner }}",
    "    permission-members: read",
  ]
    .map((line) => `${indent}${line}`)
    .join("\n");
}

const FETCH_NOTES_STEP = `      - name: Fetch the evidence notes (refs/notes/elevate)
        shell: bash
        run: |
          # actions/checkout does not fetch notes. The ref is absent until the first grant.
          set +e
          git ls-remote --exit-code origin refs/notes/elevate > /dev/null
          status=$?
          set -e
          case "$status" in
            0) git fetch --no-tags origin '+refs/notes/elevate:refs/notes/elevate' ;;
            2) echo "refs/notes/elevate does not exist yet" ;;
            *) exit "$status" ;;
          esac`;

/** `uses: ./action` (template repository) or `uses: OWNER/REPO/action@REF` (access repository). */
export function checkWorkflow(uses: string): string {
  return `# Elevate check: validates the request files a pull request adds and posts the plan
# (who, which role, which window, which approvals are still missing) as one sticky
# PR comment. It has no AWS access; its only secret is the optional members App key
# (organization Members: read, nothing else), so that the plan counts team approvals.
#
# Why \`pull_request\` and never \`pull_request_target\`: on \`pull_request\` the job runs
# the pull request's own version of this workflow (and, in a template repository, of
# ./action), so it must hold nothing worth stealing. \`pull_request_target\` would run
# that same PR-controlled code with the base repository's secrets and a write token.
# See "Keeping your GitHub Actions and workflows secure: Preventing pwn requests"
# (https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/).
# For pull requests from forks GitHub hands out a read-only token and no secrets, so
# the comment cannot be written: the action degrades to the job log and step summary.
#
# No \`paths:\` filter, on purpose: branch rules require this check, and GitHub leaves a
# required check that a path filter skipped "pending" for ever, so a pull request that
# touches no request file could never merge. On such a PR the job passes at once.
#
# The check is advisory: elevate-grant.yml re-verifies everything itself at merge.
name: Elevate check

on:
  pull_request:
  # Re-run when a review is submitted or dismissed, so the plan comment shows the
  # approvals as they stand. Reviews on fork PRs get the same read-only token.
  pull_request_review:
    types: [submitted, dismissed]

# Default deny: every job states the least it needs.
permissions: {}

concurrency:
  # A newer push to the same PR supersedes the running check.
  group: elevate-check-\${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  check:
    runs-on: ubuntu-24.04
    timeout-minutes: 10
    permissions:
      contents: read # read the PR's files, the base CODEOWNERS and config
      pull-requests: write # the sticky plan comment, reading reviews
    steps:
      - uses: ${CHECKOUT_ACTION}
        with:
          # Full history: the check reads CODEOWNERS and the config at the base commit.
          fetch-depth: 0
          # The job needs no git credentials after checkout; don't leave the token in .git/config.
          persist-credentials: false
${membersTokenStep("      ")}
      - uses: ${uses}
        with:
          mode: check
          # Empty when the App is not set up: team code owners are then shown as unreadable.
          members-token: \${{ steps.members-token.outputs.token }}
`;
}

export function grantWorkflow(uses: string): string {
  return `# Elevate grant: on a push to main that touches requests/, grants every request file
# added by a merged, approved pull request. The action re-verifies everything itself
# (it never trusts the PR check), assumes the grant role through GitHub OIDC, starts
# the Elevate-Grant SSM Automation runbook, records the evidence as a git note in
# refs/notes/elevate on the merge commit, and reports on the PR.
#
# This is the only workflow whose job may assume the grant role. The role's trust
# policy (infra/template.yaml) pins the OIDC token to this repository, refs/heads/main
# and this workflow file, with aud sts.amazonaws.com. Do not add \`environment:\` to the
# job: it changes the token's \`sub\` claim and the role would refuse it.
# OIDC with AWS: https://docs.github.com/en/actions/how-tos/secure-your-work/security-harden-deployments/oidc-in-aws
name: Elevate grant

on:
  push:
    branches: [main]
    paths:
      - "requests/**"

# Default deny: the job below states the least it needs.
permissions: {}

# One grant run at a time. Never cancel a running grant (it may be waiting on a
# runbook) and keep every pending run: without \`queue: max\` GitHub keeps only one
# pending run per group and cancels the others, which would silently drop the
# requests of those pushes.
# https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency
concurrency:
  group: elevate-grant
  cancel-in-progress: false
  queue: max

jobs:
  grant:
    runs-on: ubuntu-24.04
    # Above the action's own runbook wait (timeout-seconds, 600 by default).
    timeout-minutes: 20
    permissions:
      id-token: write # OIDC token for the grant role; no other job in this repository has it
      contents: write # push the grant evidence note (refs/notes/elevate)
      pull-requests: write # report the result on the merged pull request
    steps:
      - uses: ${CHECKOUT_ACTION}
        with:
          # Full history: the action diffs the pushed range (before..after) and reads
          # CODEOWNERS at each pull request's base commit.
          fetch-depth: 0
          # Kept on purpose: the action pushes refs/notes/elevate with git.
          persist-credentials: true
${FETCH_NOTES_STEP}
${membersTokenStep("      ")}
      - uses: ${uses}
        with:
          mode: grant
          # Expands team code owners. Without it, approvals that need a team owner fail closed.
          members-token: \${{ steps.members-token.outputs.token }}
`;
}

export function revokeWorkflow(uses: string): string {
  return `# Elevate revoke: the safety net. Each grant ends in AWS by itself at its notAfter
# (its own EventBridge Scheduler schedule runs Elevate-ExpireGrant: policy deleted,
# sessions cut off), and an early revoke ends it at once; this run repairs whatever a
# missed or failed schedule left (grant policies past their window, cut-offs to clear),
# revokes grants whose request file was deleted on main (or the one request given to a
# manual run), closes request PRs whose window has passed, finishes AWS-side approved
# grants and reports drift. It reads the grants from IAM itself, so it needs no git
# state to be safe: a missed run only delays cleanup, because every grant policy
# expires by itself.
#
# This is the only workflow whose job may assume the revoke role (its own role, pinned
# like the grant role to this repository, refs/heads/main and this workflow file).
name: Elevate revoke

on:
  schedule:
    # Hourly (UTC), at minute 17: GitHub delays runs queued at the top of the hour the
    # most. Scheduled runs use the default branch's workflow. A shorter interval shortens
    # only what still waits for this run (a missed schedule's repair, AWS-side approved
    # grants, "requested" notifications) at 24 runs a day per step of the interval
    # (docs/architecture.md, "What ends access").
    - cron: "17 * * * *"
  workflow_dispatch:
    inputs:
      request:
        description: "Request id to revoke now (the <id> of requests/<role>/<id>.yaml, or breakglass-<run id> for a break-glass grant); empty: only expired and deleted requests"
        type: string
        required: false
        default: ""
      drift:
        description: "Grant policies in IAM that no merged request accounts for: revoke them, or only report them"
        type: choice
        options:
          - revoke
          - report
        default: revoke
  push:
    branches: [main]
    # The action itself decides whether the push deleted request files (early revoke).
    paths:
      - "requests/**"

# Default deny: the job below states the least it needs.
permissions: {}

# One revoke run at a time, never cancelled mid-way, every pending run kept (a push
# that deletes a request file must not be dropped in favour of a scheduled run).
concurrency:
  group: elevate-revoke
  cancel-in-progress: false
  queue: max

jobs:
  revoke:
    # A manual run from another branch would present an OIDC token the revoke role
    # refuses; say so up front by not running at all.
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-24.04
    timeout-minutes: 20
    permissions:
      id-token: write # OIDC token for the revoke role
      contents: read # request files and the grant evidence notes
      pull-requests: write # close request PRs whose window has passed, comment on them
    steps:
      - uses: ${CHECKOUT_ACTION}
        with:
          # Full history: the action finds request files deleted by the pushed range.
          fetch-depth: 0
${FETCH_NOTES_STEP}
      - uses: ${uses}
        with:
          mode: revoke
          # Empty on schedule and push; set by a manual run. The action validates it.
          request: \${{ inputs.request }}
          drift: \${{ inputs.drift || 'revoke' }}
`;
}

/** Workflow file names (under .github/workflows/) and how each is rendered. */
export const SCAFFOLD_WORKFLOWS = {
  "elevate-check.yml": checkWorkflow,
  "elevate-grant.yml": grantWorkflow,
  "elevate-revoke.yml": revokeWorkflow,
} as const;
