import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import { describe, expect, test } from "vitest";

import { describeError, describeTaskError, isUnauthenticated } from "./errors";

describe("errors in words", () => {
  test("a refused image: the reason in words, the server's message and the code beside it", () => {
    const error = new CombinedGraphQLErrors({
      data: null,
      errors: [
        {
          message: "image: The file is not an image; only PNG, JPEG and WebP images are accepted.",
          extensions: { code: "BAD_USER_INPUT", field: "image", reason: "BAD_IMAGE" },
        },
      ],
    });
    expect(describeError(error)).toEqual({
      title: "That file is not an image we can use: pick a PNG, JPEG or WebP picture.",
      detail: "image: The file is not an image; only PNG, JPEG and WebP images are accepted.",
      code: "BAD_USER_INPUT",
      reason: "BAD_IMAGE",
    });
  });

  test("an HTTP refusal with a GraphQL-shaped body is read for its code", () => {
    const body = JSON.stringify({ errors: [{ message: "API key required", extensions: { code: "UNAUTHENTICATED" } }] });
    const error = new ServerError("Response not successful", {
      response: new Response(body, { status: 401 }),
      bodyText: body,
    });
    expect(describeError(error).title).toBe("An API key is needed: enter a valid key.");
    expect(isUnauthenticated(error)).toBe(true);
  });

  test("a task's error code has a meaning; an unknown one still says it failed", () => {
    expect(describeTaskError("TIMED_OUT")).toBe("The task did not finish in time.");
    expect(describeTaskError("SOMETHING_NEW")).toBe("The task failed (SOMETHING_NEW).");
  });
});
