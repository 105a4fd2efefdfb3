import type { Problem } from "../errors";

/** A refused request or a failed task, in words, announced to screen readers. */
export function ProblemMessage({ problem }: { problem: Problem }) {
  return (
    <div className="problem" role="alert">
      <strong>{problem.title}</strong>
      {problem.detail && <span className="problem-detail">{problem.detail}</span>}
      {problem.code && (
        <code className="problem-code">
          {problem.code}
          {problem.reason ? ` · ${problem.reason}` : ""}
        </code>
      )}
    </div>
  );
}
