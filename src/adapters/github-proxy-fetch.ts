/**
 * GitHub API requests through an HTTP(S) proxy: undici's fetch with a
 * ProxyAgent dispatcher, set up as @actions/http-client sets it up for
 * @actions/github (proxy credentials from the proxy URL, as Basic). Loaded by
 * github.ts only when a proxy applies, so undici stays out of every other run.
 */
import { ProxyAgent, fetch as undiciFetch } from "undici";

export function proxyFetch(proxyUrl: URL): typeof fetch {
  const dispatcher = new ProxyAgent({
    uri: proxyUrl.href,
    ...(proxyUrl.username || proxyUrl.password
      ? { token: `Basic ${Buffer.from(`${proxyUrl.username}:${proxyUrl.password}`).toString("base64")}` }
      : {}),
  });
  return (input, init) =>
    undiciFetch(
      input as Parameters<typeof undiciFetch>[0],
      { ...init, dispatcher } as Parameters<typeof undiciFetch>[1],
    ) as unknown as Promise<Response>;
}
