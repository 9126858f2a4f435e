/**
 * Planning the cases of an MLP file: every section is validated by its schema (schema.ts), each unknown or
 * malformed field becomes an unsupported case under its path, and every value to compare becomes a case.
 */
import { decodeNumber, decodeArray } from "@neurite/testkit";
import { Check, MLP_TOLERANCES, type PlannedCase, memo, unsupportedCase } from "./checks.js";
import {
  type Setup, computeForward, computeLayerGrads, computeLossAndGrads, layerNames, makeSetup, needLoss, paramSlot, parseArchitecture,
} from "./network.js";
import {
  ForwardSchema, type Json, NetworkSchema, OptimizerSectionSchema, STATE_FIELDS, StepSchema, TrajectorySchema, Unsupported,
  VariantSchema, isObj, namedTensors, refTensor, sectionIssues,
} from "./schema.js";
import { STATE_TOLERANCES, type StepRequest, makeOptimizer, train } from "./training.js";
import type { Optimizer } from "@neurite/core";

type DataKey = "architecture" | "initial_params" | "x" | "labels" | "onehot" | "y";

/** Every issue of a section as an unsupported case under `${id}/${key}`. */
function reportIssues(out: PlannedCase[], issues: ReturnType<typeof sectionIssues>, id: string, op: string): void {
  for (const issue of issues) out.push(unsupportedCase(issue.key ? `${id}/${issue.key}` : id, op, issue.message));
}

function planOptimizer(out: PlannedCase[], prefix: string, path: string, kind: string, section: unknown, setup: () => Setup): void {
  const op = `mlp/optimizers/${kind}`;
  const base = `${prefix}/optimizers/${kind}`;
  const where = `${path}/optimizers/${kind}`;
  if (!isObj(section)) {
    out.push(unsupportedCase(base, op, `${where} must be an object {hyper, steps}`));
    return;
  }
  reportIssues(out, sectionIssues(OptimizerSectionSchema, section, where), base, op);
  const hyper = isObj(section.hyper) ? section.hyper : {};
  const steps = Array.isArray(section.steps) ? (section.steps as unknown[]) : [];
  // the steps are one run: step k of a fresh optimizer from initial_params
  const requests = new Map<number, StepRequest>();
  const parsed: { n: number; step: Json }[] = [];
  steps.forEach((s, i) => {
    const bad = sectionIssues(StepSchema, s, `${where}/steps[${i}]`).find((issue) => !issue.unknown);
    if (bad || !isObj(s)) {
      out.push(unsupportedCase(`${base}/steps[${i}]`, op, bad?.message ?? `${where}/steps[${i}] must be an object`));
      return;
    }
    const n = s.step as number;
    const names = isObj(s.params_after) ? Object.keys(s.params_after) : [];
    for (const f of Object.keys(STATE_FIELDS)) if (isObj(s[f])) names.push(...Object.keys(s[f]).filter((k) => !names.includes(k)));
    requests.set(n, {
      names,
      stateKeys: Object.keys(STATE_FIELDS).filter((f) => s[f] !== undefined && s[f] !== null).map((f) => STATE_FIELDS[f as keyof typeof STATE_FIELDS].key),
      lr: typeof s.lr === "number" ? s.lr : undefined,
    });
    parsed.push({ n, step: s });
  });
  const last = Math.max(0, ...parsed.map((p) => p.n));
  const run = memo(() => train(setup(), () => makeOptimizer(kind, hyper), last, requests));
  for (const { n, step } of parsed) {
    const id = `${base}/step ${n}`;
    reportIssues(out, sectionIssues(StepSchema, step, `${where}/steps (step ${n})`).filter((issue) => issue.unknown), id, op);
    out.push({
      id,
      op,
      run: () => {
        const rec = run().records.get(n)!;
        const c = new Check();
        if (step.loss_before_step !== undefined) c.values("loss_before_step", [decodeNumber(step.loss_before_step)], [rec.lossBefore], MLP_TOLERANCES.loss);
        if (step.loss_after_step !== undefined) c.values("loss_after_step", [decodeNumber(step.loss_after_step)], [run().losses[n]!], MLP_TOLERANCES.loss);
        if (step.params_after !== undefined) {
          for (const [name, ref] of namedTensors(step.params_after, "params_after")) c.values(`params_after.${name}`, ref.values, rec.params.get(name)!, MLP_TOLERANCES.params);
        }
        for (const [field, { key }] of Object.entries(STATE_FIELDS)) {
          if (step[field] === undefined || step[field] === null) continue;
          for (const [name, ref] of namedTensors(step[field], field)) c.values(`${field}.${name}`, ref.values, rec.state.get(key)!.get(name)!, STATE_TOLERANCES[field]!);
        }
        return c.outcome();
      },
    });
  }
  if (section.loss_after_last_step !== undefined) {
    out.push({
      id: `${base}/loss after step ${last}`,
      op,
      run: () => {
        if (last === 0) throw new Unsupported(`${where}/loss_after_last_step without steps: add the steps it follows`);
        const c = new Check();
        c.values("loss_after_last_step", [decodeNumber(section.loss_after_last_step)], [run().losses[last]!], MLP_TOLERANCES.loss);
        return c.outcome();
      },
    });
  }
}

function planVariant(out: PlannedCase[], prefix: string, path: string, network: Json, variant: unknown): void {
  if (!isObj(variant)) {
    out.push(unsupportedCase(prefix, "mlp", `${path} must be an object (a variant: activations, loss_kind, forward, …)`));
    return;
  }
  reportIssues(out, sectionIssues(VariantSchema, variant, path), prefix, "mlp");
  const pick = (k: DataKey): unknown => (variant[k] !== undefined ? variant[k] : network[k]);
  const forward = Array.isArray(variant.forward) ? (variant.forward as unknown[]) : [];
  const names = layerNames(pick("architecture"));
  const lastForward = forward.find((f) => isObj(f) && f.layer === names.length) ?? forward[names.length - 1];
  const lastDLdaIsNull = isObj(lastForward) && "dL_da" in lastForward && lastForward.dL_da === null;
  const archPath = variant.architecture !== undefined ? `${path}/architecture` : `${path.slice(0, path.indexOf("/variants/"))}/architecture`;
  const setup = memo(() =>
    makeSetup(
      {
        architecture: pick("architecture"),
        architecturePath: archPath,
        activations: variant.activations,
        initialParams: pick("initial_params"),
        data: { x: pick("x"), labels: pick("labels"), onehot: pick("onehot"), y: pick("y") },
        lossKind: variant.loss_kind,
        lossDefinition: variant.loss_definition,
        lastDLdaIsNull,
      },
      path,
    ),
  );
  // unknown architecture fields are reported once, at planning
  try {
    parseArchitecture(pick("architecture"), archPath, (issue) => out.push(unsupportedCase(issue.path, "mlp", issue.message)));
  } catch {
    // reported by every case through setup()
  }
  const fwd = memo(() => computeForward(setup()));
  const layerGrads = memo(() => computeLayerGrads(setup()));

  forward.forEach((item, j) => {
    const issues = sectionIssues(ForwardSchema, item, `${path}/forward[${j}]`);
    if (!isObj(item) || issues.some((issue) => !issue.unknown)) {
      reportIssues(out, issues.filter((issue) => !issue.unknown), `${prefix}/forward[${j}]`, "mlp/forward");
      return;
    }
    const index = typeof item.layer === "number" ? item.layer - 1 : j;
    const name = names[index] ?? `layer${index + 1}`;
    reportIssues(out, issues, `${prefix}/forward/${name}`, "mlp/forward");
    const present = (k: string): boolean => item[k] !== undefined && item[k] !== null;
    if (present("z") || present("a")) {
      out.push({
        id: `${prefix}/forward/${name}`,
        op: "mlp/forward",
        run: () => {
          const got = fwd()[index];
          if (!got) throw new Unsupported(`forward[${j}] names layer ${index + 1}; the network has ${names.length}`);
          const c = new Check();
          const zShape = Array.isArray(item.z_shape) ? (item.z_shape as number[]) : undefined;
          if (present("z")) c.values("z", decodeArray(item.z, "z"), got.z, MLP_TOLERANCES.forward, { expected: zShape, actual: got.zShape });
          if (present("a")) c.values("a", decodeArray(item.a, "a"), got.a, MLP_TOLERANCES.forward, { expected: (item.a_shape as number[] | undefined) ?? zShape, actual: got.aShape });
          return c.outcome();
        },
      });
    }
    for (const [field, key] of [["dL_dz", "dz"], ["dL_da", "da"]] as const) {
      if (!present(field)) continue;
      out.push({
        id: `${prefix}/${field}/${name}`,
        op: `mlp/${field}`,
        run: () => {
          const got = layerGrads()[index];
          if (!got) throw new Unsupported(`forward[${j}] names layer ${index + 1}; the network has ${names.length}`);
          const actual = got[key];
          if (!actual) throw new Unsupported(`${field} of ${name}: the loss is computed from the logits, so the output a is not on the gradient path`);
          const c = new Check();
          c.values(field, decodeArray(item[field], field), actual, MLP_TOLERANCES.grads);
          return c.outcome();
        },
      });
    }
  });

  const gradNames = isObj(variant.grads) ? Object.keys(variant.grads) : [];
  const lossGrads = memo(() => computeLossAndGrads(setup(), gradNames.filter((k) => paramSlot(k))));
  if (variant.loss !== undefined) {
    out.push({
      id: `${prefix}/loss`,
      op: "mlp/loss",
      run: () => {
        const c = new Check();
        c.values("loss", [decodeNumber(variant.loss)], [lossGrads().loss], MLP_TOLERANCES.loss);
        return c.outcome();
      },
    });
  }
  for (const k of gradNames) {
    out.push({
      id: `${prefix}/grads/${k}`,
      op: "mlp/grads",
      run: () => {
        if (!paramSlot(k)) throw new Unsupported(`${path}/grads/${k} is not a parameter of this network; name parameters W1, b1, W2, …`);
        const ref = refTensor((variant.grads as Json)[k], `grads/${k}`);
        const actual = lossGrads().grads.get(k)!;
        const c = new Check();
        c.values(k, ref.values, actual, MLP_TOLERANCES.grads);
        return c.outcome();
      },
    });
  }
  if (isObj(variant.optimizers)) {
    for (const [kind, section] of Object.entries(variant.optimizers)) planOptimizer(out, prefix, path, kind, section, setup);
  }
}

function planNetwork(out: PlannedCase[], key: string, network: Json): void {
  const prefix = key === "small_mlp" ? "" : `${key}/`;
  reportIssues(out, sectionIssues(NetworkSchema, network, key), key, "mlp");
  if (!isObj(network.variants)) return;
  for (const [name, variant] of Object.entries(network.variants)) planVariant(out, `${prefix}${name}`, `${key}/variants/${name}`, network, variant);
}

function planTrajectory(out: PlannedCase[], index: number, tr: unknown): void {
  const base = isObj(tr) && typeof tr.name === "string" ? tr.name : `training_trajectories[${index}]`;
  const op = "mlp/training_trajectories";
  if (!isObj(tr)) {
    out.push(unsupportedCase(base, op, `training_trajectories[${index}] is not an object`));
    return;
  }
  const path = `training_trajectories[${index}]`;
  reportIssues(out, sectionIssues(TrajectorySchema, tr, path), base, op);
  const dataset = isObj(tr.dataset) ? tr.dataset : {};
  for (const [k, v] of Object.entries(dataset)) {
    // scalars describe how the data were generated (n, seed, noise); arrays are data this runner must use
    if (!["x", "y", "labels", "onehot"].includes(k) && typeof v === "object" && v !== null) out.push(unsupportedCase(`${base}/dataset/${k}`, op, `unknown data at ${path}/dataset/${k}: this runner reads x and y, labels or onehot; rename it or remove it`));
  }
  const checkpoints: [number, unknown][] = [];
  if (isObj(tr.checkpoints)) {
    for (const [k, v] of Object.entries(tr.checkpoints)) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 0) out.push(unsupportedCase(`${base}/checkpoint ${k}`, op, `${path}/checkpoints/${k}: ${JSON.stringify(k)} is not a step count; key checkpoints by the number of steps ("0", "10", …)`));
      else checkpoints.push([n, v]);
    }
  } else if (Array.isArray(tr.checkpoints)) {
    tr.checkpoints.forEach((c, i) => {
      if (isObj(c) && typeof c.step === "number" && c.loss !== undefined) checkpoints.push([c.step, c.loss]);
      else out.push(unsupportedCase(`${base}/checkpoints[${i}]`, op, `${path}/checkpoints[${i}] is not {step, loss}; write {"step": 10, "loss": 0.5}`));
    });
  } else {
    out.push(unsupportedCase(`${base}/checkpoints`, op, `${path}/checkpoints is missing; add {"0": loss, "10": loss, …} or [{step, loss}, …]`));
  }
  const setup = memo(() => {
    const s = makeSetup(
      {
        architecture: tr.architecture,
        architecturePath: `${path}/architecture`,
        activations: tr.activations,
        initialParams: tr.initial_params,
        data: { x: dataset.x, labels: dataset.labels, onehot: dataset.onehot, y: dataset.y },
        lossKind: tr.loss_kind,
        lossDefinition: tr.loss_definition,
        lastDLdaIsNull: false,
      },
      path,
    );
    needLoss(s);
    return s;
  });
  try {
    parseArchitecture(tr.architecture, `${path}/architecture`, (issue) => out.push(unsupportedCase(issue.path, op, issue.message)));
  } catch {
    // reported by every checkpoint through setup()
  }
  const opt = tr.optimizer;
  const optimizer = (): Optimizer => {
    if (typeof opt === "string") return makeOptimizer(opt, {});
    if (!isObj(opt) || typeof opt.name !== "string") throw new Unsupported(`${path}/optimizer is not {name, lr, …}: ${JSON.stringify(opt)}; write e.g. {"name": "sgd", "lr": 0.1}`);
    const { name, ...hyper } = opt;
    return makeOptimizer(name, hyper);
  };
  const last = Math.max(0, ...checkpoints.map(([k]) => k));
  const run = memo(() => train(setup(), optimizer, last, new Map()).losses);
  for (const [k, v] of checkpoints.sort((a, b) => a[0] - b[0])) {
    out.push({
      id: `${base}/checkpoint ${k}`,
      op,
      run: () => {
        const c = new Check();
        c.values(`loss after ${k} steps`, [decodeNumber(v)], [run()[k]!], MLP_TOLERANCES.trajectory);
        return c.outcome();
      },
    });
  }
}

/** Every case of an MLP file, in file order. */
export function planFile(json: unknown): PlannedCase[] {
  const out: PlannedCase[] = [];
  if (!isObj(json)) return [unsupportedCase("file", "mlp", "an MLP reference file must be a JSON object {small_mlp, training_trajectories, …}")];
  for (const [key, value] of Object.entries(json)) {
    if (key === "meta") continue; // conventions in words; the schema itself is what is checked
    if (key === "training_trajectories") {
      if (!Array.isArray(value)) out.push(unsupportedCase(key, "mlp/training_trajectories", "training_trajectories is not a list"));
      else value.forEach((tr, i) => planTrajectory(out, i, tr));
    } else if (isObj(value) && "architecture" in value && "variants" in value) {
      planNetwork(out, key, value);
    } else {
      out.push(unsupportedCase(key, "mlp", `unknown section "${key}": not a network (an object with architecture and variants) nor training_trajectories; rename or remove it`));
    }
  }
  return out;
}
