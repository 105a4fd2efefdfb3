import { describe, expect, test } from "vitest";

import { defaultValues, parameterProblem, toParametersInput, type WorkflowParameter } from "./parameters";

function parameter(fields: Partial<WorkflowParameter> & Pick<WorkflowParameter, "name" | "type">): WorkflowParameter {
  return {
    description: "",
    required: false,
    default: null,
    minimum: null,
    maximum: null,
    choices: null,
    ...fields,
  };
}

const steps = parameter({ name: "steps", type: "INT", default: "20", minimum: 1, maximum: 150 });
const guidance = parameter({ name: "guidance", type: "FLOAT", default: "2.5", minimum: 0, maximum: 100 });
const seed = parameter({ name: "seed", type: "SEED", minimum: 0, maximum: 1.8446744073709552e19 });
const sampler = parameter({ name: "sampler", type: "ENUM", default: '"euler"', choices: ["euler", "heun"] });
const workflow = [
  parameter({ name: "description", type: "STRING", required: true }),
  parameter({ name: "image", type: "IMAGE", required: true }),
  steps,
  guidance,
  seed,
  sampler,
];

describe("advanced parameters from the workflows query", () => {
  test("defaults come from the JSON text of each tunable parameter; inputs and images are left out", () => {
    expect(defaultValues(workflow)).toEqual({ steps: "20", guidance: "2.5", seed: "", sampler: "euler" });
  });

  test("ranges, whole numbers, choices and 64-bit seeds are checked", () => {
    expect(parameterProblem(steps, "151")).toBe("At most 150.");
    expect(parameterProblem(steps, "2.5")).toBe("A whole number.");
    expect(parameterProblem(guidance, "-1")).toBe("At least 0.");
    expect(parameterProblem(guidance, "3.5")).toBeNull();
    expect(parameterProblem(sampler, "dpm")).toBe("Not one of the choices.");
    expect(parameterProblem(seed, "18446744073709551615")).toBeNull();
    expect(parameterProblem(seed, "18446744073709551616")).not.toBeNull();
  });

  test("the input has typed values; the seed is sent as text only when not random", () => {
    const values = { steps: "8", guidance: "4", seed: "18446744073709551615", sampler: "heun" };
    expect(toParametersInput(workflow, values, false)).toEqual({
      steps: 8,
      guidance: 4,
      seed: "18446744073709551615",
      sampler: "heun",
    });
    expect(toParametersInput(workflow, values, true)).not.toHaveProperty("seed");
  });
});
