// The reference images given before (the `uploads` connection, newest first): pick one to use it
// again without sending the file twice.
import { skipToken, useQuery } from "@apollo/client/react";
import { useState } from "react";

import { describeError } from "../errors";
import type { ImageFieldsFragment } from "../gql/graphql";
import { UploadsQuery } from "../operations";
import { ProblemMessage } from "./ProblemMessage";

const pageSize = 24;

export function EarlierUploads({ onChoose }: { onChoose: (image: ImageFieldsFragment) => void }) {
  const [open, setOpen] = useState(false);
  const { data, error, fetchMore } = useQuery(
    UploadsQuery,
    open ? { variables: { first: pageSize }, fetchPolicy: "cache-and-network" } : skipToken,
  );
  const connection = data?.uploads;
  return (
    <details className="earlier" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Earlier uploads</summary>
      {error && <ProblemMessage problem={describeError(error)} />}
      {connection && connection.edges.length === 0 && <p className="hint">No uploads yet.</p>}
      <div className="earlier-grid">
        {connection?.edges.map(({ node }) => (
          <button
            key={node.id}
            type="button"
            onClick={() => onChoose(node)}
            aria-label={`Use earlier upload ${node.width} × ${node.height}`}
          >
            <img src={node.thumbnailUrl ?? node.url} alt="" loading="lazy" />
          </button>
        ))}
      </div>
      {connection?.pageInfo.hasNextPage && (
        <button
          type="button"
          className="button ghost"
          onClick={() => void fetchMore({ variables: { after: connection.pageInfo.endCursor } })}
        >
          More
        </button>
      )}
    </details>
  );
}
