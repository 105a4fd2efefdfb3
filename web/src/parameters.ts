// The advanced parameters of a workflow, as the `workflows` query describes them (type, default,
// range, choices): the page holds their values as text and turns them into GenerationParametersInput.
import type { GenerationParametersInput, WorkflowsQuery } from "./gql/graphql";

export type WorkflowParameter = WorkflowsQuery["workflows"][number]["parameters"][number];

/** The names GenerationParametersInput accepts, in the order the form shows them. */
export const parameterNames = ["steps", "cfg", "guidance", "denoise", "sampler", "scheduler", "seed"] as const;
export type ParameterName = (typeof parameterNames)[number];

export type ParameterValues = Partial<Record<ParameterName, string>>;

export function isParameterName(name: string): name is ParameterName {
  return (parameterNames as readonly string[]).includes(name);
}

/** The tunable parameters of a workflow, in form order. */
export function tunableParameters(parameters: readonly WorkflowParameter[]): WorkflowParameter[] {
  return parameterNames.flatMap((name) => parameters.filter((parameter) => parameter.name === name));
}

/** A default as shown in an input (`"euler"` → euler, `20` → 20); empty when there is none. */
export function defaultText(parameter: WorkflowParameter): string {
  if (parameter.default == null) return "";
  try {
    const value: unknown = JSON.parse(parameter.default);
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : "";
  } catch {
    return parameter.default;
  }
}

export function defaultValues(parameters: readonly WorkflowParameter[]): ParameterValues {
  const values: ParameterValues = {};
  for (const parameter of tunableParameters(parameters)) {
    if (isParameterName(parameter.name)) values[parameter.name] = defaultText(parameter);
  }
  return values;
}

/** A value outside its range or choices, in words; null when it is fine. */
export function parameterProblem(parameter: WorkflowParameter, text: string): string | null {
  if (text === "") return parameter.type === "SEED" ? "Enter a seed or choose random." : null;
  if (parameter.type === "ENUM") {
    return parameter.choices && !parameter.choices.includes(text) ? "Not one of the choices." : null;
  }
  if (parameter.type === "SEED") {
    return /^\d{1,20}$/.test(text) && BigInt(text) <= 18446744073709551615n
      ? null
      : "A whole number from 0 to 18446744073709551615.";
  }
  if (parameter.type === "INT" || parameter.type === "FLOAT") {
    const value = Number(text);
    if (!Number.isFinite(value)) return "Not a number.";
    if (parameter.type === "INT" && !Number.isInteger(value)) return "A whole number.";
    if (parameter.minimum != null && value < parameter.minimum) return `At least ${parameter.minimum}.`;
    if (parameter.maximum != null && value > parameter.maximum) return `At most ${parameter.maximum}.`;
  }
  return null;
}

/** The input for generateImage: every filled value; the seed only when not random. */
export function toParametersInput(
  parameters: readonly WorkflowParameter[],
  values: ParameterValues,
  randomSeed: boolean,
): GenerationParametersInput {
  const input: GenerationParametersInput = {};
  for (const parameter of tunableParameters(parameters)) {
    if (!isParameterName(parameter.name)) continue;
    const text = values[parameter.name] ?? "";
    if (text === "") continue;
    switch (parameter.name) {
      case "steps":
        input.steps = Number.parseInt(text, 10);
        break;
      case "cfg":
      case "guidance":
      case "denoise":
        input[parameter.name] = Number(text);
        break;
      case "seed":
        if (!randomSeed) input.seed = text;
        break;
      case "sampler":
      case "scheduler":
        input[parameter.name] = text;
        break;
    }
  }
  return input;
}
