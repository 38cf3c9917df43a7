// Builds the two committed bundles with esbuild (the only build command is
// `npm run build`; both bundles are committed so that `uses: ./action` and
// `npx elevate` work right after `npm ci`):
//
//   action/dist/index.js + action/dist/chunks/*.js   the action, split at each
//       mode's dynamic import() (src/action/main.ts): a run loads the small
//       entry and then only its mode's chunks, so check mode never loads the
//       AWS SDK (test/e2e/action-chunks.test.ts pins that) and grant loads
//       only the clients it uses;
//   action/dist/cli/index.js                          the CLI (the package's
//       `bin`), one file, as package.json's `files` lists it.
//
// Why esbuild and not ncc (bench/README.md has the figures): ncc's split
// chunks came to more than its single file, and ncc resolves the AWS SDK
// clients to their CommonJS builds, which cannot be tree-shaken; esbuild takes
// their ES module builds (`mainFields`), so only the commands we send are
// bundled, and builds in about a second instead of minutes.
//
// Reproducible byte for byte: no source maps, no legal comments, no absolute
// paths, chunk names from content hashes (.ci/run rebuilds and compares).
// Type checking is `npm run typecheck`'s (esbuild only strips types).
import { chmodSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
// `--out DIR` builds elsewhere (tests, benches); `--metafile` also writes esbuild's
// metafile (which input went into which output) as DIR/meta-{action,cli}.json.
// Neither changes a byte of the bundles themselves.
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const dist = outIndex >= 0 ? resolve(args[outIndex + 1] ?? "") : join(root, "action", "dist");
const metafile = args.includes("--metafile");
// `--one-file`: the action as one file, without the per-mode split (the bench's comparison).
const split = !args.includes("--one-file");

/**
 * @actions/http-client (under @actions/core, for the OIDC token) imports
 * undici only to build a ProxyAgent in getAgentDispatcher(), which nothing in
 * Elevate calls: its requests use Node's http(s) agents (and its `tunnel`
 * proxy support). Bundling undici there would load 400 KB into every run. This
 * plugin hands that one import a module whose ProxyAgent throws, so a future
 * caller fails loudly instead of silently going around the proxy. The GitHub
 * API goes through the same client's http(s) agents (src/adapters/github-http.ts),
 * so no undici is bundled at all.
 */
const httpClientWithoutUndici = {
  name: "http-client-without-undici",
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      /[\\/]@actions[\\/]http-client[\\/]/.test(args.importer)
        ? { path: "undici-proxy-agent-unused", namespace: "elevate-shim" }
        : undefined,
    );
  },
};

/**
 * The action gives every AWS client explicit credentials (the OIDC role
 * session; AssumeRoleWithWebIdentity itself is unsigned), so the SDK's default
 * credential chain (environment, shared ini files, SSO, credential_process,
 * IMDS, login, web identity file, and the nested STS/SSO clients they use) is
 * never consulted there. Each client's runtime config imports it as its
 * fallback; the action bundle gets a fallback that fails loudly instead, which
 * keeps about 100 KB of unused code out of it. The CLI keeps the real chain
 * (`elevate status` and `doctor` use profiles).
 */
const actionWithoutDefaultCredentialChain = {
  name: "action-without-default-credential-chain",
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: "default-credential-chain-unused",
      namespace: "elevate-shim",
    }));
  },
};

/** The modules the plugins above substitute, in their own namespace. */
const SHIMS = {
  "undici-proxy-agent-unused":
    "export class ProxyAgent { constructor() { throw new Error('@actions/http-client getAgentDispatcher() is not available in the Elevate bundle (scripts/build.mjs)'); } }\n",
  "default-credential-chain-unused":
    "export const defaultProvider = () => async () => { throw new Error('an AWS client of the Elevate action was built without credentials; the action passes them explicitly, and its bundle has no default credential chain (scripts/build.mjs)'); };\n",
};

const shimLoader = {
  name: "elevate-shims",
  setup(b) {
    b.onLoad({ filter: /.*/, namespace: "elevate-shim" }, (args) => ({ contents: SHIMS[args.path], loader: "js" }));
  },
};

/** What both bundles share. */
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  // action.yml says node24; the package and the action must also run on Node 20.
  target: "node20",
  // ES module builds first: the AWS SDK's tree-shake to the commands used.
  mainFields: ["module", "main"],
  minify: true,
  legalComments: "none",
  sourcemap: false,
  logLevel: "warning",
  plugins: [httpClientWithoutUndici, shimLoader],
  // CommonJS dependencies call require() for Node's built-ins; ES module output has none.
  banner: {
    js: "import{createRequire as __elevateRequire}from'node:module';const require=__elevateRequire(import.meta.url);",
  },
};

rmSync(dist, { recursive: true, force: true });
const action = await build({
  ...common,
  entryPoints: { index: "src/action/index.ts" },
  outdir: dist,
  splitting: split,
  chunkNames: "chunks/[name]-[hash]",
  plugins: [...common.plugins, actionWithoutDefaultCredentialChain],
  metafile,
});
const cli = await build({
  ...common,
  entryPoints: { index: "src/cli/index.ts" },
  // src/cli/index.ts starts with its #! line; esbuild keeps it above the banner.
  outdir: join(dist, "cli"),
  metafile,
});
if (metafile) {
  writeFileSync(join(dist, "meta-action.json"), JSON.stringify(action.metafile));
  writeFileSync(join(dist, "meta-cli.json"), JSON.stringify(cli.metafile));
}
// The bundles are ES modules; these tell Node so whatever directory they are copied to.
writeFileSync(join(dist, "package.json"), '{\n  "type": "module"\n}\n');
writeFileSync(join(dist, "cli", "package.json"), '{\n  "type": "module"\n}\n');
chmodSync(join(dist, "cli", "index.js"), 0o755);

const chunks = split ? readdirSync(join(dist, "chunks")).map((f) => join(dist, "chunks", f)) : [];
const actionBytes = [join(dist, "index.js"), ...chunks].map((f) => statSync(f).size).reduce((a, b) => a + b, 0);
process.stdout.write(
  `action: ${actionBytes} bytes in ${chunks.length + 1} files; cli: ${statSync(join(dist, "cli", "index.js")).size} bytes\n`,
);
