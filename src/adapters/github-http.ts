/**
 * The `fetch` Octokit is given (github.ts): GitHub API requests over Node's
 * http/https through @actions/http-client, the client @actions/core already
 * uses for the job's OIDC token. Not Node's built-in fetch: that loads Node's
 * own copy of undici on its first call, 15–40 ms of CPU measured on a grant's
 * path before its first start (bench/README.md, "Grant start"), where the
 * budget is 300 ms in all.
 *
 * @actions/http-client does what the runner expects of an Actions HTTP client:
 * the proxy settings (`https_proxy`/`http_proxy`, `no_proxy`, loopback hosts
 * exempt; through `tunnel`), redirects (Authorization dropped when the host
 * changes, never from https to http), and here keep-alive connections. Only
 * what Octokit reads of a Response is provided (status, statusText, url,
 * headers, text(), json(), arrayBuffer()); the body is read whole before the
 * response is handed over, so a broken connection is an error here, not a hang.
 */
import type { IncomingMessage } from "node:http";
import { HttpClient } from "@actions/http-client";

/** The part of a fetch Response that @octokit/request reads. */
interface OctokitResponse {
  status: number;
  statusText: string;
  url: string;
  headers: { get(name: string): string | null; [Symbol.iterator](): IterableIterator<[string, string]> };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

interface OctokitRequestInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

function readWhole(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on("data", (chunk: Buffer) => chunks.push(chunk));
    message.on("end", () => resolve(Buffer.concat(chunks)));
    message.on("error", reject);
    message.on("aborted", () => reject(new Error("the response was cut off before its end")));
  });
}

/** Response headers as fetch shows them: lower-case names, repeated values joined with ", ". */
function headerEntries(message: IncomingMessage): [string, string][] {
  return Object.entries(message.headers).flatMap(([name, value]): [string, string][] =>
    value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : value]],
  );
}

/**
 * A fetch for Octokit over one keep-alive HttpClient. `timeoutMs`: a request
 * whose connection stays silent that long fails rather than hang the job.
 */
export function httpClientFetch(
  timeoutMs: number,
): (url: string, init?: OctokitRequestInit) => Promise<OctokitResponse> {
  const client = new HttpClient(undefined, [], { keepAlive: true, socketTimeout: timeoutMs });
  return async (url, init = {}) => {
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") {
      throw new Error("the GitHub client sends string bodies only");
    }
    const response = await client.request(init.method ?? "GET", url, init.body ?? null, { ...init.headers });
    const message = response.message;
    const body = await readWhole(message);
    const headers = new Map(headerEntries(message));
    return {
      status: message.statusCode ?? 0,
      statusText: message.statusMessage ?? "",
      url,
      headers: {
        get: (name) => headers.get(name.toLowerCase()) ?? null,
        [Symbol.iterator]: () => headers.entries(),
      },
      text: async () => body.toString("utf8"),
      json: async () => JSON.parse(body.toString("utf8")),
      arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    };
  };
}
