/** Bounded concurrency lives in src/domain/map-limited.ts (adapters use it too); modes import it from here. */
export { mapLimited } from "../domain/map-limited.js";
