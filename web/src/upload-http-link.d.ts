// apollo-upload-client 19 is typed with JSDoc in its .mjs files, which TypeScript does not read
// from node_modules; this states the part of its API the page uses.
declare module "apollo-upload-client/UploadHttpLink.mjs" {
  import { ApolloLink } from "@apollo/client/link";

  export default class UploadHttpLink extends ApolloLink {
    constructor(options?: {
      uri?: string;
      headers?: Record<string, string>;
      credentials?: RequestCredentials;
      fetch?: typeof fetch;
    });
  }
}
