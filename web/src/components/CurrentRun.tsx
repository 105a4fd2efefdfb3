// The tasks on screen: one task in full, or a batch side by side to compare and pick one.
import type { ReactNode } from "react";

import type { TaskFieldsFragment } from "../gql/graphql";
import { Icon } from "./Icon";
import { TaskCard } from "./TaskCard";

interface Props {
  tasks: string[];
  open: string | null;
  onOpen: (id: string | null) => void;
  onDeleted: (id: string) => void;
  rerun: (task: TaskFieldsFragment) => ReactNode;
  onOpenTask: (id: string) => void;
}

/** The id of the panel, to bring it into view. */
export const currentRunId = "current-run";

export function CurrentRun({ tasks, open, onOpen, onDeleted, rerun, onOpenTask }: Props) {
  const shown = open ?? (tasks.length === 1 ? tasks[0] : null);
  if (shown) {
    return (
      <section id={currentRunId} className="panel current-run" aria-label="Current task">
        {tasks.length > 1 && (
          <button type="button" className="button ghost back" onClick={() => onOpen(null)}>
            ← All {tasks.length} of the batch
          </button>
        )}
        <TaskCard key={shown} id={shown} onDeleted={() => onDeleted(shown)} rerun={rerun} onOpenTask={onOpenTask} />
      </section>
    );
  }
  if (tasks.length > 1) {
    return (
      <section id={currentRunId} className="panel current-run" aria-label="Batch">
        <h2 className="section-title">
          <Icon name="columns" /> Batch of {tasks.length}: compare and pick one
        </h2>
        <div className="batch-grid" data-testid="batch">
          {tasks.map((id) => (
            <TaskCard key={id} id={id} compact onOpen={() => onOpen(id)} />
          ))}
        </div>
      </section>
    );
  }
  return (
    <section id={currentRunId} className="panel current-run empty" aria-label="Current task">
      <div className="empty-state">
        <Icon name="sparkle" size={32} />
        <p>Your edit appears here, with live progress as it is made.</p>
        <p className="hint">Pick a reference image, describe the change, and press Generate.</p>
      </div>
    </section>
  );
}
