/**
 * AWS's clock, as the runner can know it: the `Date` header of every AWS response
 * (RFC 9110 section 6.6.1, the time the response was generated, whole seconds).
 * Every time that decides access in the revoker (which grants have expired, which
 * cut-offs can be cleared, which executions belong to an earlier run) is read here,
 * never from the runner's own clock, which can be minutes or hours off (invariant 8
 * of docs/threat-model.md, and its section "A runner with a wrong clock").
 *
 * The estimate is a lower bound: AWS's time when a response arrives is at least the
 * second its `Date` names, so `now()` errs early by at most about a second plus the
 * response's latency. Early is the safe side for every decision taken with it: a
 * grant is seen expired, or a cut-off old enough to clear, a little later, never
 * sooner.
 */
export class AwsClock {
  /** Greatest lower bound seen so far of (AWS time - local time), ms; undefined before any response. */
  #offsetMs: number | undefined;
  readonly #local: () => number;

  /** `local`: the runner's clock, only used to carry an observed AWS time forward. */
  constructor(local: () => number = Date.now) {
    this.#local = local;
  }

  /** Records one response's `Date` header, received at local time `receivedAt`. Ignores what does not parse. */
  observe(dateHeader: string | undefined, receivedAt: number = this.#local()): void {
    if (dateHeader === undefined) return;
    const aws = Date.parse(dateHeader);
    if (Number.isNaN(aws)) return;
    const offset = aws - receivedAt;
    this.#offsetMs = this.#offsetMs === undefined ? offset : Math.max(this.#offsetMs, offset);
  }

  /** True once an AWS response has been seen. */
  get known(): boolean {
    return this.#offsetMs !== undefined;
  }

  /** AWS's time now (a lower bound). Throws before any AWS response was seen: there is no safe default. */
  now(): Date {
    if (this.#offsetMs === undefined) {
      throw new Error("AWS's time is not known yet: no AWS response with a Date header has been received");
    }
    return new Date(this.#local() + this.#offsetMs);
  }

  /** How far the runner's clock `runnerNow` is from AWS's (positive: the runner is ahead), ms. */
  skewOf(runnerNow: Date): number {
    return runnerNow.getTime() - this.now().getTime();
  }
}

function dateHeaderOf(response: unknown): string | undefined {
  const headers = (response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  if (!headers) return undefined;
  return headers.date ?? headers.Date;
}

/**
 * Adds a middleware to an SDK client that feeds every response's `Date` header,
 * error responses included (the SDK attaches the raw response to the error as
 * `$response`), to `clock`. Each attempt of a retried call is seen.
 */
type Handler = (args: unknown) => Promise<{ response: unknown }>;
/** The deserialize-step overload of an SDK v3 client's `middlewareStack.add` (every client has it). */
interface DeserializeStack {
  add(middleware: (next: Handler) => Handler, options: { step: "deserialize"; name: string; override: boolean }): void;
}

export function observeAwsTime(client: { middlewareStack: unknown }, clock: AwsClock): void {
  // Each client's stack is typed with its own input/output unions; this middleware reads
  // only the raw response, so the one overload it uses is declared locally.
  (client.middlewareStack as DeserializeStack).add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        clock.observe(dateHeaderOf(result.response));
        return result;
      } catch (error) {
        clock.observe(dateHeaderOf((error as { $response?: unknown }).$response));
        throw error;
      }
    },
    { step: "deserialize", name: "elevateAwsClock", override: true },
  );
}
