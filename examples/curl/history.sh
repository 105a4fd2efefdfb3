#!/usr/bin/env bash
# A page of your history, newest first, with an API key when KONTEXT_API_KEY is set.
# Usage: examples/curl/history.sh [CURSOR]   (the next page starts after the last endCursor)
headers=(-H 'content-type: application/json')
if [ -n "${KONTEXT_API_KEY:-}" ]; then
  headers+=(-H "Authorization: Bearer $KONTEXT_API_KEY")
fi
after="${1:+\"$1\"}"
curl -sS "${KONTEXT_URL:-http://127.0.0.1:8000}/graphql" "${headers[@]}" \
  -d '{"query": "query($after: String) { history(first: 2, after: $after) { totalCount edges { node { id status description } } pageInfo { hasNextPage endCursor } } }",
       "variables": {"after": '"${after:-null}"'}}'
