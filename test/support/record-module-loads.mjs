// Preloaded into an action run (NODE_OPTIONS=--import this file): registers
// record-module-loads-hooks.mjs, which appends the URL of every ES module the
// process loads to the file named by ELEVATE_MODULE_LOG. The action bundle is
// ES modules split into chunks, so this is the list of chunks a run loaded.
import { register } from "node:module";

register("./record-module-loads-hooks.mjs", import.meta.url, { data: { log: process.env.ELEVATE_MODULE_LOG } });
