/**
 * Publishing notifications (docs/notifications.md). A notification is a report
 * about something that already happened: a failure to publish is a warning,
 * never an error, and never undoes or blocks a grant or a revocation.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import { publishNotification } from "../adapters/aws.js";
import { buildNotification, type ElevateEvent, SNS_MESSAGE_MAX_BYTES } from "../domain/notifications.js";

export interface PublishSummary {
  /** SNS message ids of the published events, in order. */
  published: string[];
  /** One line per event that could not be published. */
  failed: string[];
}

/** What a failed publish is reported as; `core.warning` in the action. */
export type Warn = (message: string) => void;

/**
 * Publishes one message per event to `topicArn`, in order. Never throws: each
 * failure (a rejected Publish, an oversized message) is passed to `warn` and
 * counted in `failed`, and the remaining events are still published.
 */
export async function publishEvents(
  sns: Pick<SNSClient, "send">,
  topicArn: string | undefined,
  events: readonly ElevateEvent[],
  warn: Warn,
): Promise<PublishSummary> {
  const summary: PublishSummary = { published: [], failed: [] };
  if (!topicArn || events.length === 0) return summary;
  for (const event of events) {
    const label = `${event.event} ${event.requestId ?? event.policyName ?? ""}`.trim();
    try {
      const { subject, message } = buildNotification(event);
      const bytes = Buffer.byteLength(message, "utf8");
      if (bytes > SNS_MESSAGE_MAX_BYTES) {
        throw new Error(`the message is ${bytes} bytes, over SNS's ${SNS_MESSAGE_MAX_BYTES}-byte limit`);
      }
      const id = await publishNotification(sns as SNSClient, { topicArn, subject, message });
      summary.published.push(id ?? "");
    } catch (error) {
      const why = describeError(error);
      summary.failed.push(`${label}: ${why}`);
      warn(`could not publish the "${label}" notification to ${topicArn}: ${why}; nothing else is affected`);
    }
  }
  return summary;
}

function describeError(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const message = typeof e?.message === "string" ? e.message : String(error);
  return `${name}: ${message}`;
}
