// Starts GraphiQL on /graphql from the files the service serves itself (no CDN): queries over
// HTTP, subscriptions over graphql-ws on the same path, the example document and variables from
// the page's #kontext-graphiql block. Headers typed into GraphiQL's header editor (e.g.
// {"Authorization": "Bearer kx_..."}) also go into the websocket's connection_init payload.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("kontext-graphiql").textContent);
  var http = new URL(config.endpoint, window.location.href);
  var ws = new URL(http);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";

  function editorHeaders() {
    try {
      var stored = window.localStorage.getItem("graphiql:headers");
      var parsed = stored ? JSON.parse(stored) : {};
      return parsed && typeof parsed === "object" ? parsed : {};
    } catch (error) {
      return {};
    }
  }

  var wsClient = graphqlWs.createClient({
    url: ws.href,
    lazy: true,
    connectionParams: editorHeaders,
  });
  var fetcher = GraphiQL.createFetcher({ url: http.href, wsClient: wsClient });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      query: config.query,
      variables: config.variables,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }),
  );
})();
