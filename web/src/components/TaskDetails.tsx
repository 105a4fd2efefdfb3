// A task's parameters and timings, as a description list.
import { formatDateTime, formatDuration } from "../format";
import type { TaskFieldsFragment } from "../gql/graphql";

interface Props {
  task: TaskFieldsFragment;
  onOpen?: (id: string) => void;
}

/** Rows whose values are long: the seed (wide on a phone), the re-queue reason (a full line). */
const rowClass: Record<string, string | undefined> = { Seed: "seed", "Re-queued": "full" };

export function TaskDetails({ task, onOpen }: Props) {
  const { parameters } = task;
  // A workflow without one of the common parameters reports it as null: its row is left out.
  const common: [string, string | number | null | undefined][] = [
    ["Steps", parameters.steps],
    ["CFG", parameters.cfg],
    ["Guidance", parameters.guidance],
    ["Seed", parameters.seed],
    ["Sampler", parameters.sampler],
    ["Scheduler", parameters.scheduler],
    ["Denoise", parameters.denoise],
  ];
  const rows: [string, string][] = common.flatMap(([label, value]) =>
    value === null || value === undefined ? [] : [[label, String(value)] as [string, string]],
  );
  rows.push(
    ["Workflow", task.workflow],
    ["Backend", task.backend ?? "not sent"],
    ["Created", formatDateTime(task.createdAt)],
  );
  if (task.startedAt) rows.push(["Waited", formatDuration(task.createdAt, task.startedAt)]);
  if (task.startedAt && task.finishedAt) rows.push(["Ran", formatDuration(task.startedAt, task.finishedAt)]);
  if (task.attempts > 1) rows.push(["Attempts", String(task.attempts)]);
  if (task.requeueReason) rows.push(["Re-queued", task.requeueReason]);
  if (task.result) {
    rows.push(["Output", `${task.result.width} × ${task.result.height} ${task.result.format.toUpperCase()}`]);
  }
  return (
    <details className="task-details" open>
      <summary>Parameters and timings</summary>
      {task.rerunOf && (
        <p className="hint rerun-of">
          Re-run of{" "}
          {onOpen ? (
            <button type="button" className="link" onClick={() => onOpen(task.rerunOf?.id ?? "")}>
              {task.rerunOf.description}
            </button>
          ) : (
            task.rerunOf.description
          )}
        </p>
      )}
      <dl>
        {rows.map(([name, value]) => (
          <div key={name} className={rowClass[name]}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
