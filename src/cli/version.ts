/**
 * The package version, embedded in the bundle at build time (esbuild inlines the
 * JSON), so `elevate --version` never reads a file next to the bundle: the
 * CLI runs the same from a packed tarball, a git checkout or a copy of
 * action/dist.
 */
import packageJson from "../../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
