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
  /** Clears latency, throttling and pending failures. */
  reset(): void;
}

export interface KnobsInternals {
  knobs: SandboxKnobs;
  /** Consumes one pending failure for `apiName`, if any. */
  takeFailure(apiName: string): string | undefined;
  /** Draws from the seeded generator: true when this call must be throttled. */
  shouldThrottle(): boolean;
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
  let random = mulberry32(seed);
  let latencyMs = 0;
  let throttleRate = 0;
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
    reset() {
      pending.clear();
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
    shouldThrottle() {
      if (throttleRate <= 0) return false;
      return random() < throttleRate;
    },
  };
}
