#!/usr/bin/env bash
# The same edit in a JSON request: the image inline as base64 (raw or a data: URI).
image="$(base64 -w0 examples/car.jpg)"
curl -sS "${KONTEXT_URL:-http://127.0.0.1:8000}/graphql" \
  -H 'content-type: application/json' \
  -d '{"query": "mutation($input: GenerateImageInput!) { generateImage(input: $input) { message task { id status } } }",
       "variables": {"input": {"referenceImage": {"base64": "'"$image"'"},
                               "description": "make it night, with the headlight on"}}}'
