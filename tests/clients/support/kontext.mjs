// An Apollo Client wired the way a browser app would wire it: uploads and queries over
// apollo-upload-client's UploadHttpLink, subscriptions over graphql-ws (graphql-transport-ws).
import { readFileSync } from "node:fs";

import { ApolloClient, ApolloLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

// Node 20 has no global WebSocket, and GraphQLWsLink reads `WebSocket.CLOSED` when it sorts out a
// socket error: without this, a refused connection surfaces as "WebSocket is not defined".
globalThis.WebSocket ??= WebSocket;

/** The service under test, e.g. http://127.0.0.1:8000, from KONTEXT_URL. */
export function serviceUrl() {
  const url = process.env.KONTEXT_URL;
  if (!url) {
    throw new Error("set KONTEXT_URL to the base URL of a running `kontext serve`");
  }
  return new URL(url);
}

/** A document from operations/: the same files graphql-codegen and ariadne-codegen type. */
export function operation(name) {
  return gql(readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), "utf8"));
}

function endpoints(base) {
  const http = new URL("/graphql", base);
  const ws = new URL(http);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
  return { http: http.href, ws: ws.href };
}

export function createKontextClient(base) {
  const { http, ws } = endpoints(base);
  const socket = createClient({
    url: ws,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionAckWaitTimeout: 5_000,
  });
  const uploads = new UploadHttpLink({
    uri: http,
    headers: { "Apollo-Require-Preflight": "true" },
  });
  const link = ApolloLink.split(
    (op) => op.operationType === "subscription",
    new GraphQLWsLink(socket),
    uploads,
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const dispose = async () => {
    client.stop();
    await socket.dispose();
  };
  return { client, dispose };
}

/**
 * Every result of an Apollo subscription until the server completes it. Rejects on a transport
 * error, or if the stream has not ended within `timeoutMs`.
 */
export function untilComplete(observable, timeoutMs) {
  return new Promise((resolve, reject) => {
    const results = [];
    let subscription;
    const timer = setTimeout(() => {
      subscription?.unsubscribe();
      const seen = JSON.stringify(results.map((result) => result.data ?? result.error?.message));
      reject(new Error(`the subscription did not complete within ${timeoutMs} ms; saw ${seen}`));
    }, timeoutMs);
    subscription = observable.subscribe({
      next: (result) => results.push(result),
      error: (error) => {
        clearTimeout(timer);
        reject(error);
      },
      complete: () => {
        clearTimeout(timer);
        resolve(results);
      },
    });
  });
}
