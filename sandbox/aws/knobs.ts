/**
 * Fault injection shared by every API of the sandbox: latency, deterministic
 * throttling and "fail the next N calls of API X with error Y".
 */
export interface SandboxKnobs {
  /** Added to every call before it is handled (and to every automation step). */
  latencyMs: number;
  /** Fraction of calls, 0..1, answered with the service's throttling error. Deterministic for a given seed. */
  throttleRate: number;
  /** The next `count` calls of `apiName` (e.g. "PutUserPolicy") fail with `errorCode`. */
  failNext(apiName: string, errorCode: string, count?: number): void;
  /**
   * Forced interleaving: `hook` runs once, right before the next call of `apiName` is
   * handled (after authentication, before the call reads or changes anything), and the
   * call waits for it. Tests use it to land a concurrent run's change (a policy deleted,
   * a cut-off rewritten) exactly between two calls of the script under test, instead of
   * hoping that timing puts it there.
   */
  beforeNext(apiName: string, hook: () => void | Promise<void>): void;
  /**
   * EventBridge Scheduler: the next `count` due schedules are dropped: the target is
   * never invoked and the schedule completes as if it had (a missed schedule).
   */
  dropNextInvocation(count?: number): void;
  /** EventBridge Scheduler: the next `count` invocations fail with `errorCode`, retries exhausted; the target is never called. */
  failNextInvocation(errorCode: string, count?: number): void;
  /** EventBridge Scheduler: the next `count` invocations reach the target twice (at-least-once delivery). */
  duplicateNextInvocation(count?: number): void;
  /** EventBridge Scheduler: extra delay, in sandbox time, before a due schedule fires (a late invocation). */
  invocationDelayMs: number;
  /** EventBridge Scheduler: while true, every due schedule is dropped (an outage; what the safety net is for). */
  dropAllInvocations: boolean;
  /** Clears latency, throttling, pending failures and invocation faults. */
  reset(): void;
}

/** What happens to the next due schedule, when a knob says so. */
export type InvocationFault = { kind: "drop" } | { kind: "fail"; errorCode: string } | { kind: "duplicate" };

export interface KnobsInternals {
  knobs: SandboxKnobs;
  /** Consumes one pending failure for `apiName`, if any. */
  takeFailure(apiName: string): string | undefined;
  /** Consumes the pending `beforeNext` hook for `apiName`, if any. */
  takeHook(apiName: string): (() => void | Promise<void>) | undefined;
  /** Draws from the seeded generator: true when this call must be throttled. */
  shouldThrottle(): boolean;
  /** Consumes one pending invocation fault, if any. */
  takeInvocationFault(): InvocationFault | undefined;
}

/** mulberry32: a tiny, well-known 32-bit PRNG; enough for reproducible throttling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createKnobs(seed = 1): KnobsInternals {
  const pending = new Map<string, { errorCode: string; count: number }[]>();
  const hooks = new Map<string, (() => void | Promise<void>)[]>();
  let random = mulberry32(seed);
  let latencyMs = 0;
  let throttleRate = 0;
  let invocationDelayMs = 0;
  let dropAllInvocations = false;
  const invocationFaults: { fault: InvocationFault; count: number }[] = [];
  const queueFault = (fault: InvocationFault, count: number) => {
    if (!Number.isInteger(count) || count < 1) throw new Error(`invocation fault count must be >= 1, got ${count}`);
    invocationFaults.push({ fault, count });
  };
  const knobs: SandboxKnobs = {
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(value: number) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`knobs.latencyMs must be >= 0, got ${value}`);
      latencyMs = value;
    },
    get throttleRate() {
      return throttleRate;
    },
    set throttleRate(value: number) {
      if (!Number.isFinite(value) || value < 0 || value > 1) {
        throw new Error(`knobs.throttleRate must be within 0..1, got ${value}`);
      }
      throttleRate = value;
    },
    failNext(apiName: string, errorCode: string, count = 1) {
      if (!Number.isInteger(count) || count < 1) throw new Error(`knobs.failNext count must be >= 1, got ${count}`);
      const queue = pending.get(apiName) ?? [];
      queue.push({ errorCode, count });
      pending.set(apiName, queue);
    },
    beforeNext(apiName: string, hook: () => void | Promise<void>) {
      hooks.set(apiName, [...(hooks.get(apiName) ?? []), hook]);
    },
    dropNextInvocation(count = 1) {
      queueFault({ kind: "drop" }, count);
    },
    failNextInvocation(errorCode: string, count = 1) {
      queueFault({ kind: "fail", errorCode }, count);
    },
    duplicateNextInvocation(count = 1) {
      queueFault({ kind: "duplicate" }, count);
    },
    get invocationDelayMs() {
      return invocationDelayMs;
    },
    set invocationDelayMs(value: number) {
      if (!Number.isFinite(value) || value < 0) throw new Error(`knobs.invocationDelayMs must be >= 0, got ${value}`);
      invocationDelayMs = value;
    },
    get dropAllInvocations() {
      return dropAllInvocations;
    },
    set dropAllInvocations(value: boolean) {
      dropAllInvocations = value;
    },
    reset() {
      pending.clear();
      hooks.clear();
      invocationFaults.length = 0;
      dropAllInvocations = false;
      invocationDelayMs = 0;
      latencyMs = 0;
      throttleRate = 0;
      random = mulberry32(seed);
    },
  };
  return {
    knobs,
    takeFailure(apiName) {
      const queue = pending.get(apiName);
      const head = queue?.[0];
      if (!queue || !head) return undefined;
      head.count -= 1;
      if (head.count === 0) queue.shift();
      if (queue.length === 0) pending.delete(apiName);
      return head.errorCode;
    },
    takeHook(apiName) {
      const queue = hooks.get(apiName);
      const hook = queue?.shift();
      if (queue && queue.length === 0) hooks.delete(apiName);
      return hook;
    },
    shouldThrottle() {
      if (throttleRate <= 0) return false;
      return random() < throttleRate;
    },
    takeInvocationFault() {
      if (dropAllInvocations) return { kind: "drop" };
      const head = invocationFaults[0];
      if (!head) return undefined;
      head.count -= 1;
      if (head.count === 0) invocationFaults.shift();
      return head.fault;
    },
  };
}
