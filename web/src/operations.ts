// Every GraphQL document the page sends. graphql-codegen reads this file, checks each document
// against ../schema.graphql and types it (src/gql, generated): no response type is written by hand.
import { graphql } from "./gql";

export const ImageFields = graphql(`
  fragment ImageFields on Image {
    id
    url
    thumbnailUrl
    width
    height
    contentType
    size
  }
`);

export const TaskFields = graphql(`
  fragment TaskFields on Task {
    id
    status
    description
    workflow
    progress
    step
    totalSteps
    currentNode
    attempts
    requeueReason
    estimatedFinishAt
    backend
    batchId
    batchIndex
    queuePosition
    previewUrl
    createdAt
    updatedAt
    startedAt
    finishedAt
    deadlineAt
    parameters {
      steps
      cfg
      guidance
      seed
      sampler
      scheduler
      denoise
    }
    error {
      code
      message
      nodeId
      nodeType
      exceptionType
    }
    referenceImage {
      ...ImageFields
    }
    rerunOf {
      id
      description
    }
    result {
      imageUrl
      previewUrl
      width
      height
      format
      bytes
      image {
        id
      }
    }
  }
`);

export const WorkflowsQuery = graphql(`
  query Workflows {
    workflows {
      name
      title
      parameters {
        name
        type
        description
        required
        default
        minimum
        maximum
        choices
      }
    }
  }
`);

export const UploadImageMutation = graphql(`
  mutation UploadImage($image: ImageInput!) {
    uploadImage(image: $image) {
      ...ImageFields
    }
  }
`);

export const ImageQuery = graphql(`
  query Image($id: ID!) {
    image(id: $id) {
      ...ImageFields
    }
  }
`);

export const GenerateImageMutation = graphql(`
  mutation GenerateImage($input: GenerateImageInput!) {
    generateImage(input: $input) {
      message
      tasks {
        ...TaskFields
      }
    }
  }
`);

export const TaskQuery = graphql(`
  query Task($id: ID!) {
    task(id: $id) {
      ...TaskFields
    }
  }
`);

export const TaskBatchQuery = graphql(`
  query TaskBatch($id: ID!) {
    task(id: $id) {
      id
      batch {
        id
      }
    }
  }
`);

export const TaskProgressSubscription = graphql(`
  subscription TaskProgress($id: ID!) {
    taskProgress(id: $id) {
      sequence
      kind
      status
      step
      totalSteps
      progress
      previewUrl
      queuePosition
      task {
        ...TaskFields
      }
    }
  }
`);

export const CancelTaskMutation = graphql(`
  mutation CancelTask($id: ID!) {
    cancelTask(id: $id) {
      ...TaskFields
    }
  }
`);

export const DeleteTaskMutation = graphql(`
  mutation DeleteTask($id: ID!) {
    deleteTask(id: $id)
  }
`);

export const HistoryItemFields = graphql(`
  fragment HistoryItemFields on Task {
    id
    status
    description
    progress
    createdAt
    batchId
    previewUrl
    referenceImage {
      id
      thumbnailUrl
    }
    result {
      previewUrl
      imageUrl
    }
  }
`);

export const HistoryQuery = graphql(`
  query History($first: Int!, $after: String, $status: [TaskStatus!], $search: String) {
    history(first: $first, after: $after, status: $status, search: $search) {
      totalCount
      edges {
        cursor
        node {
          ...HistoryItemFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const TaskUpdatesSubscription = graphql(`
  subscription TaskUpdates {
    taskUpdates {
      kind
      status
      task {
        ...HistoryItemFields
      }
    }
  }
`);

export const PresetsQuery = graphql(`
  query Presets {
    presets {
      id
      name
      builtIn
      parameters {
        steps
        cfg
        guidance
        seed
        sampler
        scheduler
        denoise
      }
    }
  }
`);

export const SavePresetMutation = graphql(`
  mutation SavePreset($input: SavePresetInput!) {
    savePreset(input: $input) {
      id
      name
    }
  }
`);

export const DeletePresetMutation = graphql(`
  mutation DeletePreset($id: ID!) {
    deletePreset(id: $id)
  }
`);

export const RerunTaskMutation = graphql(`
  mutation RerunTask($id: ID!, $seed: Seed) {
    rerunTask(id: $id, seed: $seed) {
      tasks {
        ...TaskFields
      }
    }
  }
`);

export const UploadsQuery = graphql(`
  query Uploads($first: Int!, $after: String) {
    uploads(first: $first, after: $after) {
      edges {
        cursor
        node {
          ...ImageFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);
