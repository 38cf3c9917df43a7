/**
 * The sandbox clock. Every time the sandbox reasons about (credential expiry,
 * `aws:CurrentTime`, `aws:TokenIssueTime`, JWT exp/nbf, automation timestamps)
 * comes from here, so tests can move time across a grant window.
 */
export interface SandboxClock {
  now(): Date;
  set(date: Date): void;
  advance(ms: number): void;
  /** True when the clock advances with real time (not only by set/advance). */
  readonly following: boolean;
  /** Calls `listener` after every set/advance (EventBridge Scheduler fires what became due). */
  onMove(listener: () => void): void;
}

/**
 * Starts at `start` (or the real time). A following clock then advances with
 * real time (for demos, where time should pass); a frozen clock moves only by
 * `set`/`advance` (for tests that assert exact instants).
 */
export function createClock(start?: Date, mode: "following" | "frozen" = "following"): SandboxClock {
  const real = (): number => (mode === "frozen" ? 0 : Date.now());
  let offsetMs = (start ?? new Date()).getTime() - real();
  const listeners: (() => void)[] = [];
  const moved = () => {
    for (const listener of listeners) listener();
  };
  return {
    now: () => new Date(real() + offsetMs),
    set(date: Date) {
      if (Number.isNaN(date.getTime())) throw new Error("clock.set: invalid date");
      offsetMs = date.getTime() - real();
      moved();
    },
    advance(ms: number) {
      if (!Number.isFinite(ms)) throw new Error("clock.advance: ms must be a finite number");
      offsetMs += ms;
      moved();
    },
    following: mode === "following",
    onMove(listener) {
      listeners.push(listener);
    },
  };
}
