/** Printing shared by CLI commands. */
import { formatLocatedError, type LocatedError } from "../domain/errors.js";
import type { Output } from "./args.js";

/** One `FILE:LINE:COL: error: MESSAGE` line per error. */
export function printErrors(out: Output, errors: readonly LocatedError[]): void {
  for (const error of errors) out.write(`${formatLocatedError(error)}\n`);
}
