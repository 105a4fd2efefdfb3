// A task's live state: the progress bar, step x of y, the estimated finish time (when the service
// gives one), the newest latent preview, and Cancel while it can still be cancelled.
import { formatClock, formatDuration } from "../format";
import type { TaskFieldsFragment } from "../gql/graphql";

interface Props {
  task: TaskFieldsFragment;
  /** When the service expects the task to finish (ISO date-time), if it says. */
  estimatedFinishAt?: string | null;
  onCancel?: () => void;
  cancelling?: boolean;
  showPreview?: boolean;
}

/**
 * The service's estimate of when a task finishes (`Task.estimatedFinishAt`), read from the task
 * when its documents ask for it (add the field to the TaskFields fragment once schema.graphql has
 * it); null otherwise.
 */
export function estimatedFinishAt(task: object): string | null {
  return "estimatedFinishAt" in task && typeof task.estimatedFinishAt === "string" ? task.estimatedFinishAt : null;
}

export function isActive(task: Pick<TaskFieldsFragment, "status">): boolean {
  return task.status === "PENDING" || task.status === "PROCESSING";
}

function stateText(task: TaskFieldsFragment): string {
  switch (task.status) {
    case "PENDING":
      return task.queuePosition == null
        ? "Waiting to start"
        : task.queuePosition === 0
          ? "Next in the queue"
          : `Queued: ${task.queuePosition} ahead`;
    case "PROCESSING":
      return task.totalSteps > 0 ? `Step ${task.step} of ${task.totalSteps}` : (task.currentNode ?? "Starting");
    case "COMPLETED":
      return task.startedAt && task.finishedAt ? `Done in ${formatDuration(task.startedAt, task.finishedAt)}` : "Done";
    case "FAILED":
      return "Failed";
    case "CANCELLED":
      return "Cancelled";
  }
}

export function TaskProgress({ task, estimatedFinishAt, onCancel, cancelling, showPreview = true }: Props) {
  const value = Math.round(task.status === "COMPLETED" ? 100 : task.progress);
  const active = isActive(task);
  return (
    <div className={`task-progress status-${task.status.toLowerCase()}`}>
      <div className="progress-head">
        <span className="progress-state">{stateText(task)}</span>
        {active && estimatedFinishAt && (
          <span className="progress-eta">
            ready about <time dateTime={estimatedFinishAt}>{formatClock(estimatedFinishAt)}</time>
          </span>
        )}
        <span className="progress-value">{value}%</span>
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={`Progress: ${task.description}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        aria-valuetext={`${value}%, ${stateText(task)}`}
      >
        <div className="progress-fill" style={{ width: `${value}%` }} />
      </div>
      {active && showPreview && task.previewUrl && (
        <img className="latent-preview" src={task.previewUrl} alt="Latest preview of the image being made" />
      )}
      {active && onCancel && (
        <button type="button" className="button secondary" onClick={onCancel} disabled={cancelling}>
          Cancel
        </button>
      )}
    </div>
  );
}
