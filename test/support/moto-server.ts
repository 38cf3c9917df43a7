/**
 * moto (`moto_server`, moto 5) as a second, independent implementation of the
 * AWS APIs Elevate calls: the conformance suite (test/conformance/) runs the same
 * calls against it and against the sandbox. One server on an ephemeral loopback
 * port, started by the suite and killed afterwards.
 *
 * moto is a Python package (`pip install 'moto[server]>=5,<6'`, see
 * docs/development.md). Without it the suite skips and says so; under CI it
 * must be there.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";

export const MOTO_COMMAND = process.env.MOTO_SERVER ?? "moto_server";

export interface MotoAvailability {
  available: boolean;
  /** Why not, when it is not. */
  reason: string;
}

/** Whether `moto_server` can be started here (it answers `--help`). */
export function motoAvailability(): MotoAvailability {
  const probe = spawnSync(MOTO_COMMAND, ["--help"], { encoding: "utf8", timeout: 20_000 });
  if (probe.error) {
    return {
      available: false,
      reason: `${MOTO_COMMAND} is not installed (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}); install moto 5 with: pip install 'moto[server]>=5,<6'`,
    };
  }
  if (probe.status !== 0) {
    return { available: false, reason: `${MOTO_COMMAND} --help exited with ${probe.status}: ${probe.stderr.trim()}` };
  }
  return { available: true, reason: "" };
}

export interface MotoServer {
  /** `http://127.0.0.1:PORT`: the endpoint for every service (moto routes on the signing scope). */
  endpoint: string;
  /** Forgets every resource in every account (moto's `/moto-api/reset`). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/**
 * Starts `moto_server -H 127.0.0.1 -p 0` (the kernel picks a free port; the
 * server prints it), then waits until its management API answers.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const child = spawn(MOTO_COMMAND, ["-H", "127.0.0.1", "-p", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  let output = "";
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`moto_server did not report its port within ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  const server: MotoServer = {
    endpoint,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    close: () => stop(child),
  };
  try {
    await waitUntilAnswering(`${endpoint}/moto-api/data.json`);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server at ${url} did not answer within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
