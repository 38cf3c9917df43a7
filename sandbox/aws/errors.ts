/**
 * An error the sandbox returns to an AWS SDK client, in the shape of the
 * service's own error (the protocol layer renders it as query/XML or JSON 1.1).
 */
export class AwsServiceError extends Error {
  /** Error code on the wire: `<Code>` for query services, `__type` for JSON services. */
  readonly code: string;
  readonly httpStatus: number;
  /** Query protocol `<Type>`: `Sender` for client faults, `Receiver` for service faults. */
  readonly fault: "Sender" | "Receiver";

  constructor(code: string, message: string, httpStatus = 400) {
    super(message);
    this.name = code;
    this.code = code;
    this.httpStatus = httpStatus;
    this.fault = httpStatus >= 500 ? "Receiver" : "Sender";
  }
}

/** Shorthands for the errors every service shares. */
export const errors = {
  /** IAM/STS/SNS: `InvalidParameterValue`-style input problems use `ValidationError` in IAM's query APIs. */
  validation(message: string): AwsServiceError {
    return new AwsServiceError("ValidationError", message, 400);
  },
  noSuchEntity(message: string): AwsServiceError {
    return new AwsServiceError("NoSuchEntity", message, 404);
  },
  alreadyExists(message: string): AwsServiceError {
    return new AwsServiceError("EntityAlreadyExists", message, 409);
  },
  malformedPolicy(message: string): AwsServiceError {
    return new AwsServiceError("MalformedPolicyDocument", message, 400);
  },
  limitExceeded(message: string): AwsServiceError {
    return new AwsServiceError("LimitExceeded", message, 409);
  },
};
