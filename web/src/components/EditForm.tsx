// The edit: reference image, instruction, presets, advanced parameters (collapsed; ranges and
// defaults from the `workflows` query), count, and Generate.
import { useMutation, useQuery } from "@apollo/client/react";
import { useMemo, useState, type SyntheticEvent } from "react";

import { describeError, type Problem } from "../errors";
import type { ImageFieldsFragment } from "../gql/graphql";
import { GenerateImageMutation, WorkflowsQuery } from "../operations";
import {
  defaultValues,
  isParameterName,
  parameterProblem,
  toParametersInput,
  tunableParameters,
  type ParameterValues,
} from "../parameters";
import { Icon } from "./Icon";
import { ParameterField } from "./ParameterField";
import { Presets } from "./Presets";
import { ProblemMessage } from "./ProblemMessage";
import { ReferencePicker } from "./ReferencePicker";

export const workflowName = "flux_kontext_dev_basic";

interface Props {
  onGenerated: (taskIds: string[]) => void;
}

export function EditForm({ onGenerated }: Props) {
  const workflows = useQuery(WorkflowsQuery);
  const parameters = useMemo(
    () => workflows.data?.workflows.find((workflow) => workflow.name === workflowName)?.parameters ?? [],
    [workflows.data],
  );
  const tunable = useMemo(() => tunableParameters(parameters), [parameters]);
  // What the person changed; the rest are the workflow's defaults.
  const [changed, setChanged] = useState<ParameterValues>({});
  const values = useMemo(() => ({ ...defaultValues(parameters), ...changed }), [parameters, changed]);
  const [randomSeed, setRandomSeed] = useState(true);
  const [instruction, setInstruction] = useState("");
  const [count, setCount] = useState(1);
  const [reference, setReference] = useState<ImageFieldsFragment | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [generate, { loading }] = useMutation(GenerateImageMutation);

  const applyValues = (next: ParameterValues) => {
    setChanged((current) => ({ ...current, ...next }));
    if (next.seed !== undefined) setRandomSeed(next.seed === "");
  };

  const invalid = tunable.some(
    (parameter) =>
      isParameterName(parameter.name) &&
      !(parameter.type === "SEED" && randomSeed) &&
      parameterProblem(parameter, values[parameter.name] ?? "") !== null,
  );
  const missing = !reference ? "Choose a reference image." : !instruction.trim() ? "Write an instruction." : null;

  const onSubmit = async (event: SyntheticEvent) => {
    event.preventDefault();
    if (!reference || missing || invalid) return;
    setProblem(null);
    try {
      const { data } = await generate({
        variables: {
          input: {
            referenceImage: { imageId: reference.id },
            description: instruction.trim(),
            workflow: workflowName,
            parameters: toParametersInput(parameters, values, randomSeed),
            count,
          },
        },
      });
      if (data) onGenerated(data.generateImage.tasks.map((task) => task.id));
    } catch (error) {
      setProblem(describeError(error));
    }
  };

  return (
    <form className="panel edit-form" onSubmit={(event) => void onSubmit(event)} aria-label="Edit">
      <ReferencePicker image={reference} onChange={setReference} />

      <div className="field">
        <label htmlFor="instruction" className="section-title">
          <Icon name="sparkle" /> Instruction
        </label>
        <textarea
          id="instruction"
          aria-label="Instruction"
          rows={3}
          maxLength={4000}
          placeholder="e.g. Make it a watercolor painting, keep the composition"
          value={instruction}
          onChange={(event) => setInstruction(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) {
              event.currentTarget.form?.requestSubmit();
            }
          }}
        />
      </div>

      <Presets current={toParametersInput(parameters, values, randomSeed)} onApply={applyValues} />

      <details className="advanced">
        <summary>Advanced parameters</summary>
        {workflows.error && <ProblemMessage problem={describeError(workflows.error)} />}
        <div className="advanced-grid">
          {tunable.map((parameter) =>
            isParameterName(parameter.name) ? (
              <ParameterField
                key={parameter.name}
                parameter={parameter}
                value={values[parameter.name] ?? ""}
                onChange={(value) => setChanged((current) => ({ ...current, [parameter.name]: value }))}
                randomSeed={randomSeed}
                onRandomSeed={setRandomSeed}
              />
            ) : null,
          )}
        </div>
      </details>

      <div className="generate-row">
        <div className="count">
          <label htmlFor="count">Count</label>
          <select id="count" value={count} onChange={(event) => setCount(Number(event.currentTarget.value))}>
            {[1, 2, 3, 4, 5, 6, 7, 8].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button primary" disabled={loading || Boolean(missing) || invalid}>
          <Icon name="sparkle" /> Generate
        </button>
      </div>
      {missing && <p className="hint">{missing}</p>}
      {problem && <ProblemMessage problem={problem} />}
    </form>
  );
}
