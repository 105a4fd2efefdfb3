# Kontext GraphQL: the same install as the README (pip install of this project) in a build stage;
# the web app and GraphiQL's browser files are built in Node stages (from the npm packages pinned by
# web/package-lock.json and graphiql/package-lock.json); the final stage has no compilers and no
# Node and runs as a non-root user. Migrations run at start-up unless
# KONTEXT_MIGRATE_ON_START=false (then: `kontext migrate`).
FROM node:20-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
# The app's types are generated from the schema beside it (../schema.graphql).
COPY schema.graphql /src/
COPY web ./
RUN npm run build

FROM node:20-slim AS graphiql
WORKDIR /src
COPY graphiql/package.json graphiql/package-lock.json ./graphiql/
COPY scripts/build-graphiql ./scripts/
RUN scripts/build-graphiql

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY graphql_api ./graphql_api
COPY --from=graphiql /src/graphql_api/graphiql_assets ./graphql_api/graphiql_assets
COPY tasks ./tasks
COPY comfy ./comfy
COPY storage ./storage
COPY workflows ./workflows
RUN python -m venv /opt/kontext && /opt/kontext/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 kontext && mkdir /data && chown 10001 /data
COPY --from=build /opt/kontext /opt/kontext
COPY --from=web /src/web/dist /opt/kontext-web
ENV PATH="/opt/kontext/bin:$PATH" \
    KONTEXT_WEB_DIST=/opt/kontext-web \
    KONTEXT_HOST=0.0.0.0 \
    KONTEXT_PORT=8000 \
    KONTEXT_DATABASE_URL=sqlite:///data/kontext.sqlite3 \
    KONTEXT_STORAGE_DIR=/data/files
USER 10001
WORKDIR /home/kontext
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["kontext", "serve"]
