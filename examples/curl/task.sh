#!/usr/bin/env bash
# Where a task is (curl cannot follow a subscription: poll, or see the Python and Apollo examples).
# Usage: examples/curl/task.sh TASK_ID
curl -sS "${KONTEXT_URL:-http://127.0.0.1:8000}/graphql" \
  -H 'content-type: application/json' \
  -d '{"query": "query($id: ID!) { task(id: $id) { status progress step totalSteps result { imageUrl } error { code message } } }",
       "variables": {"id": "'"$1"'"}}'
