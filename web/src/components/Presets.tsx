// Presets: the built-in ones (fast draft, balanced, strong edit) and the caller's own, kept by the
// service. A click applies one to the advanced parameters; the current values can be saved by name.
import { useMutation, useQuery } from "@apollo/client/react";
import { useId, useState, type SyntheticEvent } from "react";

import { describeError, type Problem } from "../errors";
import type { GenerationParametersInput, PresetsQuery as PresetsResult } from "../gql/graphql";
import { DeletePresetMutation, PresetsQuery, SavePresetMutation } from "../operations";
import { parameterNames, type ParameterValues } from "../parameters";
import { Icon } from "./Icon";
import { ProblemMessage } from "./ProblemMessage";

type Preset = PresetsResult["presets"][number];

interface Props {
  /** The parameters as the form would send them now (what Save stores). */
  current: GenerationParametersInput;
  onApply: (values: ParameterValues, name: string) => void;
}

/** The values a preset sets; the ones it leaves null stay as they are. */
export function presetValues(preset: Preset): ParameterValues {
  const values: ParameterValues = {};
  for (const name of parameterNames) {
    const value = preset.parameters[name];
    if (value != null) values[name] = String(value);
  }
  return values;
}

export function Presets({ current, onApply }: Props) {
  const nameId = useId();
  const { data, error } = useQuery(PresetsQuery);
  const [save, saving] = useMutation(SavePresetMutation, { refetchQueries: [PresetsQuery] });
  const [remove] = useMutation(DeletePresetMutation, { refetchQueries: [PresetsQuery] });
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [applied, setApplied] = useState<string | null>(null);

  const run = async (action: () => Promise<unknown>) => {
    setProblem(null);
    try {
      await action();
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };

  const onSave = (event: SyntheticEvent) => {
    event.preventDefault();
    event.stopPropagation();
    const trimmed = name.trim();
    if (!trimmed) return;
    void run(async () => {
      await save({ variables: { input: { name: trimmed, parameters: current } } });
      setName("");
      setApplied(trimmed);
    });
  };

  return (
    <div className="presets" role="group" aria-labelledby={`${nameId}-title`}>
      <div className="section-title" id={`${nameId}-title`}>
        <Icon name="bookmark" /> Presets
        {applied && <span className="field-hint">applied: {applied}</span>}
      </div>
      {error && <ProblemMessage problem={describeError(error)} />}
      <div className="preset-chips">
        {data?.presets.map((preset) => (
          <span key={preset.id} className={`chip${preset.builtIn ? " builtin" : ""}`}>
            <button
              type="button"
              aria-pressed={applied === preset.name}
              onClick={() => {
                onApply(presetValues(preset), preset.name);
                setApplied(preset.name);
              }}
            >
              {preset.name}
            </button>
            {!preset.builtIn && (
              <button
                type="button"
                className="chip-remove"
                aria-label={`Delete preset ${preset.name}`}
                onClick={() => void run(() => remove({ variables: { id: preset.id } }))}
              >
                <Icon name="x" size={14} />
              </button>
            )}
          </span>
        ))}
      </div>
      <div className="preset-save">
        <input
          aria-label="Preset name"
          placeholder="Save current settings as…"
          maxLength={100}
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter") onSave(event);
          }}
        />
        <button type="button" className="button secondary" onClick={onSave} disabled={!name.trim() || saving.loading}>
          Save preset
        </button>
      </div>
      {problem && <ProblemMessage problem={problem} />}
    </div>
  );
}
