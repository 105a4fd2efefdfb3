// A task's live state: the progress bar, step x of y, the estimated finish time (when the service
// gives one: time left and the clock time), why it was re-queued if it was, the newest latent
// preview, and Cancel while it can still be cancelled.
import { formatClock, formatDuration, formatTimeLeft } from "../format";
import type { TaskFieldsFragment } from "../gql/graphql";
import { useNow } from "../useNow";
import { SettledImage } from "./SettledImage";

interface Props {
  task: TaskFieldsFragment;
  onCancel?: () => void;
  cancelling?: boolean;
  showPreview?: boolean;
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

export function TaskProgress({ task, onCancel, cancelling, showPreview = true }: Props) {
  const value = Math.round(task.status === "COMPLETED" ? 100 : task.progress);
  const active = isActive(task);
  const estimate = active ? task.estimatedFinishAt : null;
  const now = useNow(estimate != null);
  return (
    <div className={`task-progress status-${task.status.toLowerCase()}`}>
      <div className="progress-head">
        <span className="progress-state">{stateText(task)}</span>
        {estimate && (
          <span className="progress-eta" title="The service's estimate of when this task finishes">
            {formatTimeLeft(estimate, now)} · <time dateTime={estimate}>{formatClock(estimate)}</time>
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
      {active && task.requeueReason && (
        <p className="hint requeue-reason" role="status">
          {task.requeueReason}
        </p>
      )}
      {active && showPreview && task.previewUrl && (
        <SettledImage src={task.previewUrl} className="latent-preview" alt="Latest preview of the image being made" />
      )}
      {active && onCancel && (
        <button type="button" className="button secondary" onClick={onCancel} disabled={cancelling}>
          Cancel
        </button>
      )}
    </div>
  );
}
