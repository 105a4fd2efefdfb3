// History: thumbnails of the caller's tasks, newest first, loaded page by page as the list scrolls
// (the Relay connection), filtered by status and text, and kept live by `taskUpdates`.
import { useQuery, useSubscription } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";

import { describeError } from "../errors";
import type { HistoryItemFieldsFragment, TaskStatus } from "../gql/graphql";
import { HistoryQuery, TaskUpdatesSubscription } from "../operations";
import { Icon } from "./Icon";
import { ProblemMessage } from "./ProblemMessage";
import { SettledImage } from "./SettledImage";

const pageSize = 24;
const statusChoices: { value: TaskStatus | ""; label: string }[] = [
  { value: "", label: "All" },
  { value: "COMPLETED", label: "Completed" },
  { value: "PROCESSING", label: "Running" },
  { value: "PENDING", label: "Waiting" },
  { value: "FAILED", label: "Failed" },
  { value: "CANCELLED", label: "Cancelled" },
];

interface Props {
  status: TaskStatus[];
  search: string;
  onFilter: (change: { status?: TaskStatus[]; search?: string }) => void;
  /** Opens a task (with its batch, when it belongs to one). */
  onOpen: (task: HistoryItemFieldsFragment) => void;
  /** The tasks on screen (one, or a batch): marked in the grid. */
  selected: string[];
}

function thumbnail(task: HistoryItemFieldsFragment): string | null {
  return (
    task.result?.previewUrl ?? task.result?.imageUrl ?? task.previewUrl ?? task.referenceImage?.thumbnailUrl ?? null
  );
}

export function History({ status, search, onFilter, onOpen, selected }: Props) {
  const [text, setText] = useState(search);
  // The address changed the search (Back, another filter): show it in the box.
  const [shownSearch, setShownSearch] = useState(search);
  if (shownSearch !== search) {
    setShownSearch(search);
    setText(search);
  }
  const variables = { first: pageSize, status: status.length ? status : null, search: search || null };
  const { data, error, loading, fetchMore, refetch } = useQuery(HistoryQuery, {
    variables,
    fetchPolicy: "cache-and-network",
    notifyOnNetworkStatusChange: true,
  });
  const connection = data?.history;
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (text === search) return;
    const timer = window.setTimeout(() => onFilter({ search: text.trim() }), 300);
    return () => window.clearTimeout(timer);
  }, [text, search, onFilter]);

  // New and deleted tasks change the list itself: reload its first page (once per burst, a batch
  // announces each sibling). Other changes reach the shown items through the normalized cache.
  const reload = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(reload.current), []);
  useSubscription(TaskUpdatesSubscription, {
    onData: ({ data: update }) => {
      const kind = update.data?.taskUpdates.kind;
      if (kind !== "CREATED" && kind !== "DELETED") return;
      window.clearTimeout(reload.current);
      reload.current = window.setTimeout(() => void refetch(), 150);
    },
  });

  const hasNextPage = connection?.pageInfo.hasNextPage ?? false;
  const endCursor = connection?.pageInfo.endCursor ?? null;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasNextPage || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        void fetchMore({ variables: { after: endCursor } });
      }
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasNextPage, endCursor, loading, fetchMore]);

  const items = connection?.edges.map((edge) => edge.node) ?? [];
  return (
    <section className="panel history" aria-labelledby="history-title">
      <header className="history-head">
        <h2 id="history-title" className="section-title">
          <Icon name="history" /> History
          {connection && <span className="count-badge">{connection.totalCount}</span>}
        </h2>
        <div className="history-filters">
          <label className="search">
            <Icon name="search" />
            <input
              type="search"
              aria-label="Search history"
              placeholder="Search instructions"
              value={text}
              onChange={(event) => setText(event.currentTarget.value)}
            />
          </label>
          <select
            aria-label="Status"
            value={status[0] ?? ""}
            onChange={(event) => {
              const value = event.currentTarget.value as TaskStatus | "";
              onFilter({ status: value ? [value] : [] });
            }}
          >
            {statusChoices.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
      </header>
      {error && <ProblemMessage problem={describeError(error)} />}
      {connection && items.length === 0 && (
        <p className="hint history-empty">
          {status.length || search
            ? "No task matches this filter."
            : "Nothing here yet: your edits appear here as you make them."}
        </p>
      )}
      <ul className="history-grid">
        {items.map((task) => {
          const src = thumbnail(task);
          return (
            <li key={task.id}>
              <button
                type="button"
                className={`history-item status-${task.status.toLowerCase()}${selected.includes(task.id) ? " selected" : ""}`}
                onClick={() => onOpen(task)}
                aria-label={`${task.description} (${task.status.toLowerCase()})`}
                aria-current={selected.includes(task.id) ? "true" : undefined}
              >
                {src ? <SettledImage src={src} alt="" lazy /> : <span className="history-blank" />}
                <span className="history-caption">{task.description}</span>
                <span className={`status-dot status-${task.status.toLowerCase()}`} title={task.status.toLowerCase()} />
                {(task.status === "PROCESSING" || task.status === "PENDING") && (
                  <span className="history-progress" style={{ width: `${Math.round(task.progress)}%` }} />
                )}
              </button>
            </li>
          );
        })}
      </ul>
      <div ref={sentinel} className="history-sentinel" aria-hidden="true" />
      {loading && <p className="hint">Loading…</p>}
    </section>
  );
}
