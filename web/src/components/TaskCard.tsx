// One task of the current run: live progress while it runs; the result beside the reference
// (before/after), download, Re-run, delete once it is done; the error in words if it failed.
import { useMutation } from "@apollo/client/react";
import { useState, type ReactNode } from "react";

import { describeError, describeTaskError, type Problem } from "../errors";
import type { TaskFieldsFragment } from "../gql/graphql";
import { CancelTaskMutation, DeleteTaskMutation } from "../operations";
import { useLiveTask } from "../useLiveTask";
import { BeforeAfter } from "./BeforeAfter";
import { Icon } from "./Icon";
import { ProblemMessage } from "./ProblemMessage";
import { TaskDetails } from "./TaskDetails";
import { isActive, TaskProgress } from "./TaskProgress";

interface Props {
  id: string;
  /** Compact: a tile of a batch, with a button to open it. */
  compact?: boolean;
  onOpen?: () => void;
  onDeleted?: () => void;
  /** Re-run controls for a finished task. */
  rerun?: (task: TaskFieldsFragment) => ReactNode;
  /** Opens another task (the original of a re-run). */
  onOpenTask?: (id: string) => void;
}

function resultAlt(task: TaskFieldsFragment): string {
  return `Result: ${task.description}`;
}

export function TaskCard({ id, compact = false, onOpen, onDeleted, rerun, onOpenTask }: Props) {
  const { task, loading, error } = useLiveTask(id);
  const [cancel, cancelState] = useMutation(CancelTaskMutation);
  const [remove, removeState] = useMutation(DeleteTaskMutation);
  const [problem, setProblem] = useState<Problem | null>(null);

  if (loading) return <article className="task-card loading" aria-busy="true" />;
  if (!task) {
    return (
      <article className="task-card">
        <ProblemMessage problem={error ? describeError(error) : describeError(null)} />
      </article>
    );
  }

  const onCancel = async () => {
    setProblem(null);
    try {
      await cancel({ variables: { id } });
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };
  const onDelete = async () => {
    setProblem(null);
    try {
      await remove({
        variables: { id },
        update: (cache) => {
          cache.evict({ id: cache.identify({ __typename: "Task", id }) });
          cache.gc();
        },
      });
      onDeleted?.();
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };

  const result = task.result;
  const reference = task.referenceImage;
  return (
    <article className={`task-card${compact ? " compact" : ""}`} aria-label={task.description}>
      {!compact && <h2 className="task-title">{task.description}</h2>}
      <TaskProgress
        task={task}
        onCancel={() => void onCancel()}
        cancelling={cancelState.loading}
        showPreview={!result}
      />
      {task.error && (
        <ProblemMessage
          problem={{
            title: describeTaskError(task.error.code),
            detail: task.error.message,
            code: task.error.code,
            reason: null,
          }}
        />
      )}
      {result ? (
        compact || !reference ? (
          <img
            className="result-image"
            src={result.imageUrl}
            alt={resultAlt(task)}
            width={result.width}
            height={result.height}
            style={{ "--aspect": `${result.width / result.height}` } as React.CSSProperties}
          />
        ) : (
          <BeforeAfter
            before={reference.url}
            after={result.imageUrl}
            alt={resultAlt(task)}
            width={result.width}
            height={result.height}
          />
        )
      ) : (
        !isActive(task) &&
        reference && <img className="result-image faded" src={reference.url} alt="Reference image of this task" />
      )}
      <div className="task-actions">
        {compact && onOpen && (
          <button
            type="button"
            className="button secondary"
            onClick={onOpen}
            aria-label={`Open ${task.description} #${task.batchIndex + 1}`}
          >
            <Icon name="columns" /> Pick this one
          </button>
        )}
        {!compact && result && (
          <a className="button secondary" href={result.imageUrl} download>
            <Icon name="download" /> Download
          </a>
        )}
        {!compact && !isActive(task) && rerun?.(task)}
        {!compact && !isActive(task) && (
          <button
            type="button"
            className="button ghost danger"
            onClick={() => void onDelete()}
            disabled={removeState.loading}
          >
            <Icon name="trash" /> Delete
          </button>
        )}
      </div>
      {problem && <ProblemMessage problem={problem} />}
      {!compact && <TaskDetails task={task} {...(onOpenTask ? { onOpen: onOpenTask } : {})} />}
    </article>
  );
}
