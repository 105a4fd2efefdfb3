// One advanced parameter as its type asks: a number with its range, a list of choices, or a seed
// with a "random" toggle.
import { useId } from "react";

import { defaultText, parameterProblem, type WorkflowParameter } from "../parameters";

interface Props {
  parameter: WorkflowParameter;
  value: string;
  onChange: (value: string) => void;
  randomSeed: boolean;
  onRandomSeed: (random: boolean) => void;
}

const labels: Record<string, string> = {
  steps: "Steps",
  cfg: "CFG",
  guidance: "Guidance",
  seed: "Seed",
  sampler: "Sampler",
  scheduler: "Scheduler",
  denoise: "Denoise",
};

function rangeText(parameter: WorkflowParameter): string {
  const fallback = defaultText(parameter);
  const parts: string[] = [];
  if (parameter.type !== "SEED" && parameter.minimum != null && parameter.maximum != null) {
    parts.push(`${parameter.minimum}–${parameter.maximum}`);
  }
  if (fallback) parts.push(`default ${fallback}`);
  return parts.join(", ");
}

export function ParameterField({ parameter, value, onChange, randomSeed, onRandomSeed }: Props) {
  const id = useId();
  const label = labels[parameter.name] ?? parameter.name;
  const seedRandom = parameter.type === "SEED" && randomSeed;
  const problem = seedRandom ? null : parameterProblem(parameter, value);
  const hint = rangeText(parameter);
  return (
    <div className={`field field-${parameter.type.toLowerCase()}${problem ? " invalid" : ""}`}>
      <label htmlFor={id} title={parameter.description}>
        {label}
        {hint && <span className="field-hint">{hint}</span>}
      </label>
      {parameter.type === "ENUM" ? (
        <select id={id} value={value} onChange={(event) => onChange(event.currentTarget.value)}>
          {(parameter.choices ?? []).map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      ) : parameter.type === "SEED" ? (
        <div className="seed-row">
          <input
            id={id}
            inputMode="numeric"
            value={seedRandom ? "" : value}
            placeholder={seedRandom ? "random" : "0"}
            disabled={seedRandom}
            aria-invalid={problem ? true : undefined}
            onChange={(event) => onChange(event.currentTarget.value.trim())}
          />
          <label className="toggle">
            <input
              type="checkbox"
              checked={randomSeed}
              onChange={(event) => onRandomSeed(event.currentTarget.checked)}
            />
            Random
          </label>
        </div>
      ) : (
        <input
          id={id}
          type="number"
          inputMode={parameter.type === "INT" ? "numeric" : "decimal"}
          min={parameter.minimum ?? undefined}
          max={parameter.maximum ?? undefined}
          step={parameter.type === "INT" ? 1 : "any"}
          value={value}
          aria-invalid={problem ? true : undefined}
          onChange={(event) => onChange(event.currentTarget.value)}
        />
      )}
      {problem && <span className="field-problem">{problem}</span>}
    </div>
  );
}
