// Edit examples/car.jpg with Apollo Client: upload it (apollo-upload-client), follow the task
// over a websocket (graphql-ws), then page the history.
//   cd examples/apollo && npm ci && node edit.mjs [IMAGE]
// KONTEXT_URL picks the server (default http://127.0.0.1:8000); KONTEXT_API_KEY, when set, is
// sent as `Authorization: Bearer` on HTTP and in the websocket's connection_init payload.
// A browser app on another origin also needs KONTEXT_CORS_ORIGINS=<its origin> on the server.
import { readFileSync } from "node:fs";

import { ApolloClient, ApolloLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

globalThis.WebSocket ??= WebSocket; // Node 20 has none; browsers do

const base = process.env.KONTEXT_URL ?? "http://127.0.0.1:8000";
const key = process.env.KONTEXT_API_KEY;
const auth = key ? { Authorization: `Bearer ${key}` } : {};
const image = process.argv[2] ?? new URL("../car.jpg", import.meta.url);

const http = new URL("/graphql", base).href;
const socket = createClient({ url: http.replace(/^http/, "ws"), connectionParams: auth });
const client = new ApolloClient({
  link: ApolloLink.split(
    (operation) => operation.operationType === "subscription",
    new GraphQLWsLink(socket),
    // Multipart requests must carry Apollo-Require-Preflight (CSRF protection).
    new UploadHttpLink({ uri: http, headers: { "Apollo-Require-Preflight": "true", ...auth } }),
  ),
  cache: new InMemoryCache(),
});

const GENERATE = gql`
  mutation Generate($input: GenerateImageInput!) {
    generateImage(input: $input) { message task { id status } }
  }
`;
const PROGRESS = gql`
  subscription Progress($id: ID!) {
    taskProgress(id: $id) {
      sequence kind status step totalSteps progress
      result { imageUrl } error { code message }
    }
  }
`;
const HISTORY = gql`
  query History($after: String) {
    history(first: 2, after: $after) {
      totalCount
      edges { node { id status description } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const file = new File([readFileSync(image)], "car.jpg", { type: "image/jpeg" });
const { data } = await client.mutate({
  mutation: GENERATE,
  variables: {
    input: {
      referenceImage: { upload: file },
      description: "change the car to red, keep the background",
      parameters: { steps: 8 },
    },
  },
});
const { task, message } = data.generateImage;
console.log(message, task.id);

const last = await new Promise((resolve, reject) => {
  let latest;
  client.subscribe({ query: PROGRESS, variables: { id: task.id } }).subscribe({
    next: ({ data: event, error }) => {
      if (error) return reject(error);
      latest = event.taskProgress;
      console.log(`${latest.kind} ${latest.status} step ${latest.step}/${latest.totalSteps}`);
    },
    error: reject,
    complete: () => resolve(latest),
  });
});
if (last.status !== "COMPLETED") {
  console.error("task ended:", last.status, last.error);
  process.exitCode = 1;
} else {
  console.log("result:", last.result.imageUrl);
  let after = null;
  for (let page = 0; page < 2; page += 1) {
    const { data: { history } } = await client.query({
      query: HISTORY,
      variables: { after },
      fetchPolicy: "network-only",
    });
    history.edges.forEach(({ node }) => console.log("history:", node.id, node.status));
    if (!history.pageInfo.hasNextPage) break;
    after = history.pageInfo.endCursor;
  }
}
client.stop();
await socket.dispose();
