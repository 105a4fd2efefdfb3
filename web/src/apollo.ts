// The Apollo Client of the page: queries, mutations and uploads over HTTP (multipart when a file is
// in the variables), subscriptions over graphql-ws on the same origin. The stored API key goes in
// the `Authorization` header and in the socket's `connection_init` payload.
import { ApolloClient, ApolloLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { relayStylePagination } from "@apollo/client/utilities";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";

import { authorizationHeader } from "./apiKey";
import { isActive } from "./components/TaskProgress";
import { isUnauthenticated } from "./errors";
import type { TaskStatus } from "./gql/graphql";

/** Fired on `window` when the service refuses the API key (or its absence). */
export const unauthenticatedEvent = "kontext:unauthenticated";

function closedWithCode(event: unknown, code: number): boolean {
  return typeof event === "object" && event !== null && "code" in event && event.code === code;
}

export function graphqlEndpoints(location: Location = window.location): { http: string; ws: string } {
  const http = new URL("/graphql", location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
  return { http: http.pathname, ws: ws.href };
}

export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          history: relayStylePagination(["status", "search"]),
          task: {
            // A task already in the cache (from generateImage, say) shows at once.
            read(existing: unknown, { args, toReference }) {
              const id: unknown = args?.["id"];
              return existing ?? (typeof id === "string" ? toReference({ __typename: "Task", id }) : undefined);
            },
          },
        },
      },
      Task: {
        fields: {
          status: {
            // A task that has ended never runs again (a re-run is a task of its own), so an update
            // that arrives late (another subscription's, a slower answer's) cannot show it running.
            merge(existing: TaskStatus | undefined, incoming: TaskStatus) {
              const ended = existing !== undefined && !isActive({ status: existing });
              return ended && isActive({ status: incoming }) ? existing : incoming;
            },
          },
        },
      },
      GenerationParameters: { merge: true },
      TaskResult: { merge: true },
      TaskError: { merge: true },
    },
  });
}

export function createApolloClient(): ApolloClient {
  const { http, ws } = graphqlEndpoints();
  const socket = createClient({
    url: ws,
    lazy: true,
    retryAttempts: Infinity,
    // 4403: the key was refused; retrying cannot help until a key is entered.
    shouldRetry: (event) => !closedWithCode(event, 4403),
    on: {
      closed: (event) => {
        if (closedWithCode(event, 4403)) window.dispatchEvent(new Event(unauthenticatedEvent));
      },
    },
    connectionParams: () => {
      const authorization = authorizationHeader();
      return authorization ? { Authorization: authorization } : {};
    },
  });
  const auth = new SetContextLink((prevContext) => {
    const authorization = authorizationHeader();
    const headers: Record<string, string> = { ...(prevContext["headers"] as Record<string, string> | undefined) };
    if (authorization) headers["Authorization"] = authorization;
    return { headers };
  });
  const refused = new ErrorLink(({ error }) => {
    if (isUnauthenticated(error)) window.dispatchEvent(new Event(unauthenticatedEvent));
  });
  const httpLink = ApolloLink.from([
    refused,
    auth,
    new UploadHttpLink({ uri: http, headers: { "Apollo-Require-Preflight": "true" } }),
  ]);
  const link = ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(socket),
    httpLink,
  );
  return new ApolloClient({ link, cache: createCache() });
}
