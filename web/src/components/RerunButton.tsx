// Re-run a finished task: the same request again as a new task (linked to this one), with the
// same seed or a new random one.
import { useMutation } from "@apollo/client/react";
import { useId, useState } from "react";

import { describeError, type Problem } from "../errors";
import type { TaskFieldsFragment } from "../gql/graphql";
import { RerunTaskMutation } from "../operations";
import { Icon } from "./Icon";
import { ProblemMessage } from "./ProblemMessage";

/** A fresh unsigned 64-bit seed from the browser's random source, as decimal text. */
function randomSeed(): string {
  const [value = 0n] = crypto.getRandomValues(new BigUint64Array(1));
  return value.toString();
}

interface Props {
  task: TaskFieldsFragment;
  onStarted: (taskIds: string[]) => void;
}

export function RerunButton({ task, onStarted }: Props) {
  const id = useId();
  const [sameSeed, setSameSeed] = useState(false);
  const [rerun, { loading }] = useMutation(RerunTaskMutation);
  const [problem, setProblem] = useState<Problem | null>(null);
  const onClick = async () => {
    setProblem(null);
    try {
      const { data } = await rerun({ variables: { id: task.id, seed: sameSeed ? null : randomSeed() } });
      if (data) onStarted(data.rerunTask.tasks.map((created) => created.id));
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };
  return (
    <>
      <span className="rerun">
        <button type="button" className="button secondary" onClick={() => void onClick()} disabled={loading}>
          <Icon name="refresh" /> Re-run
        </button>
        <label className="toggle" htmlFor={id} title={`Seed ${task.parameters.seed}`}>
          <input
            id={id}
            type="checkbox"
            checked={sameSeed}
            onChange={(event) => setSameSeed(event.currentTarget.checked)}
          />
          same seed
        </label>
      </span>
      {problem && <ProblemMessage problem={problem} />}
    </>
  );
}
