// Errors in words: what a coded GraphQL error (extensions.code / extensions.reason) or a task's
// error code means to the person at the page, beside the server's own message.
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

export interface Problem {
  /** A sentence that says what went wrong, from the code (and reason). */
  title: string;
  /** The server's own message, when it adds something. */
  detail: string | null;
  code: string | null;
  reason: string | null;
}

const reasons: Record<string, string> = {
  BAD_IMAGE: "That file is not an image we can use: pick a PNG, JPEG or WebP picture.",
  IMAGE_TOO_LARGE: "That image is too large: the limit is 20 MB.",
  IMAGE_TOO_MANY_PIXELS: "That image has too many pixels: the limit is 50 megapixels.",
  URL_FORBIDDEN: "That address cannot be fetched: only public http(s) addresses are allowed.",
  URL_FETCH_FAILED: "The image at that address could not be downloaded.",
  BAD_BASE64: "The image data is not valid base64.",
  NOT_A_FILE: "Nothing usable was sent as the file.",
  OUT_OF_RANGE: "A value is outside its allowed range.",
  EMPTY: "Something required is empty.",
  TOO_LONG: "A text is too long.",
  NOT_A_CHOICE: "A value is not one of the allowed choices.",
  BAD_TEXT: "The text contains characters that cannot be used.",
};

const codes: Record<string, string> = {
  BAD_USER_INPUT: "Something in the request is not valid.",
  NOT_FOUND: "It no longer exists (or is not yours).",
  INVALID_STATE: "That is not possible in the task's current state.",
  IDEMPOTENCY_CONFLICT: "This request was already sent with different content.",
  UNAUTHENTICATED: "An API key is needed: enter a valid key.",
  RATE_LIMITED: "Too many requests in a short time: wait a moment and try again.",
  TOO_MANY_TASKS: "You have too many unfinished tasks: wait for some to finish.",
  QUEUE_FULL: "The service is busy: the queue is full, try again shortly.",
  PAYLOAD_TOO_LARGE: "The request is too large.",
  CSRF_PREFLIGHT_REQUIRED: "The upload was refused by the service's cross-site guard.",
  GRAPHQL_PARSE_FAILED: "The service could not read the request.",
  GRAPHQL_VALIDATION_FAILED: "The service refused the request as invalid.",
  INTERNAL_SERVER_ERROR: "The service hit an internal error.",
};

/** What a task's error code (TaskError.code) means. */
export const taskErrorMeanings: Record<string, string> = {
  WORKFLOW_INVALID: "ComfyUI refused the workflow.",
  EXECUTION_FAILED: "A step of the workflow failed while running.",
  CANCELLED: "The task was cancelled.",
  LOST: "The backend lost the task too many times.",
  TIMED_OUT: "The task did not finish in time.",
  NO_OUTPUT: "The workflow finished without producing an image.",
  INPUT_MISSING: "The reference image can no longer be read.",
};

export function describeTaskError(code: string): string {
  return taskErrorMeanings[code] ?? `The task failed (${code}).`;
}

interface CodedError {
  message?: string;
  extensions?: Record<string, unknown> | null;
}

function fromCoded(error: CodedError): Problem {
  const code = typeof error.extensions?.["code"] === "string" ? error.extensions["code"] : null;
  const reason = typeof error.extensions?.["reason"] === "string" ? error.extensions["reason"] : null;
  const title = (reason && reasons[reason]) ?? (code && codes[code]) ?? error.message ?? "Something went wrong.";
  const detail = error.message && error.message !== title ? error.message : null;
  return { title, detail, code, reason };
}

function codedErrorsInBody(bodyText: string): CodedError[] {
  try {
    const body: unknown = JSON.parse(bodyText);
    if (body && typeof body === "object" && "errors" in body && Array.isArray(body.errors)) {
      return body.errors as CodedError[];
    }
  } catch {
    // not JSON: described by the status alone
  }
  return [];
}

export function describeError(error: unknown): Problem {
  if (CombinedGraphQLErrors.is(error) && error.errors[0]) {
    return fromCoded(error.errors[0]);
  }
  if (ServerError.is(error)) {
    const [first] = codedErrorsInBody(error.bodyText);
    if (first) return fromCoded(first);
    return { title: `The service answered HTTP ${error.statusCode}.`, detail: null, code: null, reason: null };
  }
  if (error instanceof Error) {
    return { title: "The service could not be reached.", detail: error.message, code: null, reason: null };
  }
  return { title: "Something went wrong.", detail: null, code: null, reason: null };
}

export function isUnauthenticated(error: unknown): boolean {
  return describeError(error).code === "UNAUTHENTICATED";
}
