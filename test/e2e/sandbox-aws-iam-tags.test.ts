/**
 * IAM user tags in the sandbox: TagUser / UntagUser / ListUserTags over the
 * query protocol, and the user's tags as `iam:ResourceTag/…` and
 * `aws:ResourceTag/…` condition keys when a caller acts on the user, so a
 * policy conditioned on a tag is evaluated as IAM would.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetUserCommand,
  IAMClient,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  UntagUserCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";

let sandbox: AwsSandbox;
let iam: IAMClient;
let writer: IAMClient;

const ACCOUNT = "123456789012";
const client = (credentials: Credentials) =>
  new IAMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials, maxAttempts: 1 });

async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return "ok";
}

beforeAll(async () => {
  sandbox = await startAwsSandbox();
  iam = client(sandbox.rootCredentials);
  for (const name of ["marked", "unmarked", "wrong-value"]) {
    await iam.send(new CreateUserCommand({ UserName: name, Path: "/elevate/" }));
  }
  await iam.send(new CreateUserCommand({ UserName: "writer" }));
  // The automation role's shape: put policies only on users under /elevate/ that carry the marker.
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "writer",
      PolicyName: "marked-only",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "iam:PutUserPolicy",
            Resource: `arn:aws:iam::${ACCOUNT}:user/elevate/*`,
            Condition: { StringEquals: { "iam:ResourceTag/elevate:eligible": "true" } },
          },
        ],
      }),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: "writer" }));
  writer = client({ accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! });
});

afterAll(async () => {
  iam.destroy();
  writer.destroy();
  await sandbox.close();
});

const put = (userName: string) =>
  writer.send(
    new PutUserPolicyCommand({
      UserName: userName,
      PolicyName: "elevate-x",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "sts:GetCallerIdentity", Resource: "*" }],
      }),
    }),
  );

describe("IAM user tags", () => {
  it("round-trips TagUser, ListUserTags and UntagUser, and GetUser shows the tags", async () => {
    await iam.send(
      new TagUserCommand({
        UserName: "marked",
        Tags: [
          { Key: "elevate:eligible", Value: "true" },
          { Key: "team", Value: "platform" },
        ],
      }),
    );
    const listed = await iam.send(new ListUserTagsCommand({ UserName: "marked" }));
    expect(listed.Tags).toEqual([
      { Key: "elevate:eligible", Value: "true" },
      { Key: "team", Value: "platform" },
    ]);
    expect(listed.IsTruncated).toBe(false);
    await iam.send(new UntagUserCommand({ UserName: "marked", TagKeys: ["team"] }));
    expect((await iam.send(new GetUserCommand({ UserName: "marked" }))).User?.Tags).toEqual([
      { Key: "elevate:eligible", Value: "true" },
    ]);
    expect(
      await errorName(iam.send(new TagUserCommand({ UserName: "marked", Tags: [{ Key: "aws:x", Value: "1" }] }))),
    ).toBe("InvalidInputException");
    expect(await errorName(iam.send(new ListUserTagsCommand({ UserName: "nobody" })))).toBe("NoSuchEntityException");
  });

  it("evaluates iam:ResourceTag conditions against the target user's tags", async () => {
    await iam.send(new TagUserCommand({ UserName: "wrong-value", Tags: [{ Key: "elevate:eligible", Value: "yes" }] }));
    expect(await errorName(put("marked"))).toBe("ok");
    expect(await errorName(put("unmarked"))).toBe("AccessDenied");
    expect(await errorName(put("wrong-value"))).toBe("AccessDenied");
    // Removing the marker removes the permission at once.
    await iam.send(new UntagUserCommand({ UserName: "marked", TagKeys: ["elevate:eligible"] }));
    expect(await errorName(put("marked"))).toBe("AccessDenied");
  });
});
