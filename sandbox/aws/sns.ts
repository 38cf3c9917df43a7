/**
 * SNS over the AWS query protocol (Version 2010-03-31): CreateTopic, Publish,
 * DeleteTopic, ListTopics. Published messages are kept for assertions.
 * https://docs.aws.amazon.com/sns/latest/api/
 */
import { randomUUID } from "node:crypto";
import { authorizeCall, requirePrincipal, type SandboxCore } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type { QueryHandler } from "./iam.js";
import { optional, required } from "./wire.js";

export interface PublishedMessage {
  topicArn: string;
  subject: string | undefined;
  message: string;
  messageId: string;
  /** ARN of the principal that published. */
  publishedBy: string;
  time: Date;
}

export interface SnsState {
  topics: Set<string>;
  published: PublishedMessage[];
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

export function snsHandlers(state: SnsState): Record<string, QueryHandler> {
  const topicArn = (core: SandboxCore, account: string, name: string) =>
    `arn:aws:sns:${core.region}:${account}:${name}`;
  return {
    async CreateTopic(params, ctx, core) {
      const account = requirePrincipal(ctx).accountId;
      const name = required(params, "Name");
      if (!TOPIC_NAME.test(name)) {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: Topic Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
          400,
        );
      }
      const arn = topicArn(core, account, name);
      await authorizeCall(ctx, { action: "sns:CreateTopic", resource: arn, resourceAccountId: account });
      state.topics.add(arn);
      return { TopicArn: arn };
    },

    async DeleteTopic(params, ctx) {
      const arn = required(params, "TopicArn");
      const account = requirePrincipal(ctx).accountId;
      await authorizeCall(ctx, { action: "sns:DeleteTopic", resource: arn, resourceAccountId: account });
      state.topics.delete(arn);
      return null;
    },

    async ListTopics(_params, ctx) {
      const account = requirePrincipal(ctx).accountId;
      await authorizeCall(ctx, { action: "sns:ListTopics", resource: "*", resourceAccountId: account });
      return { Topics: [...state.topics].filter((t) => t.split(":")[4] === account).map((t) => ({ TopicArn: t })) };
    },

    async Publish(params, ctx) {
      const principal = requirePrincipal(ctx);
      const arn = optional(params, "TopicArn") ?? optional(params, "TargetArn");
      if (arn === undefined) {
        throw new AwsServiceError(
          "InvalidParameter",
          "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
          400,
        );
      }
      const message = required(params, "Message");
      const account = /^arn:aws:sns:[a-z0-9-]+:(\d{12}):/.exec(arn)?.[1];
      if (!account) throw new AwsServiceError("InvalidParameter", "Invalid parameter: TopicArn", 400);
      await authorizeCall(ctx, { action: "sns:Publish", resource: arn, resourceAccountId: account });
      if (!state.topics.has(arn)) throw new AwsServiceError("NotFound", "Topic does not exist", 404);
      const subject = optional(params, "Subject");
      // "Subjects must be UTF-8 text with no line breaks or control characters, and less
      // than 100 characters long." (Publish, Amazon SNS API Reference)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
      if (subject !== undefined && (subject.length >= 100 || /[\x00-\x1f\x7f]/.test(subject))) {
        throw new AwsServiceError("InvalidParameter", "Invalid parameter: Subject", 400);
      }
      const messageId = randomUUID();
      state.published.push({ topicArn: arn, subject, message, messageId, publishedBy: principal.arn, time: ctx.now });
      return { MessageId: messageId };
    },
  };
}
