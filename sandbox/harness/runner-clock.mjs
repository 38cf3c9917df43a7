/**
 * Preloaded (node --import) into the action's process by run-action.ts: the runner's
 * wall clock starts at ELEVATE_NOW and runs on in real time, so everything in that
 * process reads the same (possibly skewed) runner clock: the action's own clock and
 * the AWS SDK's, which compares it with AWS's Date header to correct for clock skew
 * (and retries a failed call once when it does). Without it the SDK would compare the
 * world's time with the host's, and a world set on another day would look skewed.
 */
const start = Date.parse(process.env.ELEVATE_NOW ?? "");
if (!Number.isNaN(start)) {
  const RealDate = Date;
  const offset = start - RealDate.now();
  class RunnerDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = RunnerDate;
}
