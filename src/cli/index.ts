#!/usr/bin/env node
// Entry point of the `elevate` CLI bundle (action/dist/cli/index.js): only runs main().
import { main } from "./main.js";

main({ argv: process.argv.slice(2) }).then((code) => {
  process.exitCode = code;
});
