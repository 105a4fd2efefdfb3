#!/usr/bin/env bash
# The first request: upload examples/car.jpg (GraphQL multipart request) and queue an edit of it.
# Run from the repository's folder while ./scripts/serve runs; KONTEXT_URL picks another server.
curl -sS "${KONTEXT_URL:-http://127.0.0.1:8000}/graphql" \
  -H 'Apollo-Require-Preflight: true' \
  -F operations='{"query": "mutation($input: GenerateImageInput!) { generateImage(input: $input) { message task { id status parameters { seed } } } }",
                  "variables": {"input": {"referenceImage": {"upload": null},
                                          "description": "change the car to red, keep the background",
                                          "parameters": {"steps": 20, "guidance": 2.5}}}}' \
  -F map='{"0": ["variables.input.referenceImage.upload"]}' \
  -F 0=@examples/car.jpg
