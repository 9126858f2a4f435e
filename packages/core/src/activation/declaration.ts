/**
 * An activation declaration is data, checked once when it is registered (or first bound): every field read
 * once from an own data property (a getter could answer differently later), every value of the right type,
 * the parameter declarations well-formed, and the formula and derivative run once on symbolic inputs, where
 * they must return expressions built by the core. A declaration that fails registers nothing.
 */
import { sharedBrand } from "../process-state.js";
import { derive } from "../expr/derive.js";
import { type Expr, exprArity } from "../expr/expr.js";
import { ArgumentError, NeuriteError, RegistryError, fmtValue } from "../errors.js";
import { didYouMean } from "../validation/suggest.js";
import { activationProgram, trainableParams } from "./program.js";
import type { ActivationMeta, ActivationParams, ActivationPlugin, ParamSpec, ParamValue } from "./contract.js";

const COMMON_FIELDS = ["kind", "type", "name", "family", "package", "version", "description", "params", "meta", "validate"];
const FIELDS = {
  elementwise: [...COMMON_FIELDS, "formula", "derivative", "kernels", "source"],
  axis: [...COMMON_FIELDS, "forward", "backward", "reference", "crossEntropyFromLogits"],
} as const;
const SPEC_FIELDS = ["default", "description", "min", "max", "exclusiveMin", "exclusiveMax", "integer", "choices", "trainable", "perChannel"];
const META_FIELDS = ["range", "monotonic", "smoothAtZero"];
const KERNEL_FIELDS = ["forward", "backward"];
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;
/** Longest name accepted: names appear in messages, saved models and kernel caches. */
const MAX_NAME_LENGTH = 100;
/** Most parameter values tried per declaration (each choice of a string or boolean parameter is one run). */
const MAX_VARIANTS = 64;

/** Why an identity field may be missing: a family's member gets it from defineFamily, a standalone plugin states it. */
const MEMBER_HINT = "; state it in the declaration, or list the activation in a family (defineFamily fills family, package and version)";

/** Declarations that passed {@link checkDeclaration}: binding one again costs a lookup. */
const checked = sharedBrand("checked-declarations");

/** Whether `name` is a property every object has (`constructor`, `toString`, `__proto__`…): never a usable key. */
export function isPrototypeKey(name: string): boolean {
  return name in Object.prototype;
}

/**
 * The own data properties of `value`, each read once; an accessor (getter or setter) is refused, because a
 * getter may answer the check one way and the kernel another.
 */
function dataFields(value: object, where: (key: string) => string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key !== "string") continue;
    const d = Reflect.getOwnPropertyDescriptor(value, key);
    if (!d) continue;
    if (!("value" in d)) throw new RegistryError(`${where(key)} must be a plain data property, not a getter (a declaration is data, read once)`);
    out.set(key, d.value);
  }
  return out;
}

function isPlainObject(v: unknown): v is object {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unknownFields(fields: Map<string, unknown>, known: readonly string[], where: string): void {
  for (const key of fields.keys()) {
    if (!known.includes(key)) {
      throw new RegistryError(`${where}: unknown field ${JSON.stringify(key)}${didYouMean(key, known)} (the fields: ${known.join(", ")})`);
    }
  }
}

/** Throws unless `plugin` is a well-formed activation declaration; remembers the ones that pass. */
export function checkDeclaration(plugin: unknown): void {
  if (typeof plugin === "object" && plugin !== null && checked.has(plugin)) return;
  if (!isPlainObject(plugin)) throw new RegistryError(`an activation must be an object built with defineActivation, got ${fmtValue(plugin)}`);
  const nameDescriptor = Reflect.getOwnPropertyDescriptor(plugin, "name");
  const name: unknown = nameDescriptor && "value" in nameDescriptor ? nameDescriptor.value : undefined;
  const label = `activation ${typeof name === "string" ? JSON.stringify(name) : "(unnamed)"}`;
  const f = dataFields(plugin, (key) => `${label}: ${key}`);
  const kind = f.get("kind");
  const type = f.get("type");
  if (kind !== "activation" || (type !== "elementwise" && type !== "axis")) {
    throw new RegistryError(`${typeof name === "string" ? JSON.stringify(name) : "the plugin"} is not an activation plugin (kind ${fmtValue(kind)}, type ${fmtValue(type)}); build it with defineActivation`);
  }
  if (typeof name !== "string" || !IDENTIFIER.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new RegistryError(`activation name ${fmtValue(name)} must be an identifier such as "leakyRelu" (a letter, then letters, digits or _; at most ${MAX_NAME_LENGTH} characters)`);
  }
  if (isPrototypeKey(name)) {
    throw new RegistryError(`activation name "${name}" is a property of every object (Object.prototype.${name}), so it cannot name an activation; choose another name`);
  }
  unknownFields(f, FIELDS[type], label);
  for (const key of ["package", "family"]) {
    const v = f.get(key);
    if (typeof v !== "string" || v.length === 0) throw new RegistryError(`${label}: ${key} must be a non-empty string, got ${fmtValue(v)}${v === undefined ? MEMBER_HINT : ""}`);
  }
  const version = f.get("version");
  if (typeof version !== "string" || !VERSION.test(version)) {
    throw new RegistryError(`${label}: version must be a version string such as "1.0.0" (major.minor.patch), got ${fmtValue(version)}${version === undefined ? MEMBER_HINT : ""}`);
  }
  if (typeof f.get("description") !== "string") throw new RegistryError(`${label}: description must be a string (the formula in words), got ${fmtValue(f.get("description"))}`);

  const specs = checkParamSpecs(label, name, f.get("params"));
  const defaults: ActivationParams = {};
  for (const [k, spec] of specs) defaults[k] = spec.default;
  const validate = f.get("validate");
  if (validate !== undefined && typeof validate !== "function") throw new RegistryError(`${label}: validate must be a function of the parameters, got ${fmtValue(validate)}`);
  if (typeof validate === "function") {
    guarded(label, "validate(params) with the defaults", () => (validate as (p: ActivationParams) => void)(defaults));
  }
  checkMeta(label, f.get("meta"), defaults);

  const p = plugin as ActivationPlugin;
  if (type === "axis") {
    for (const key of ["forward", "backward", "reference"]) {
      if (typeof f.get(key) !== "function") throw new RegistryError(`axis ${label} needs ${key}, a function (see AxisActivation)`);
    }
    const logits = f.get("crossEntropyFromLogits");
    if (logits !== undefined && typeof logits !== "function") {
      throw new RegistryError(`${label}: crossEntropyFromLogits must be a function (params, rank) => boolean, got ${fmtValue(logits)}`);
    }
  } else {
    if (typeof f.get("formula") !== "function") throw new RegistryError(`${label} has no formula(x, params): give it as a function returning an expression`);
    const source = f.get("source");
    if (source !== undefined && typeof source !== "string") throw new RegistryError(`${label}: source must be the formula's text, got ${fmtValue(source)}`);
    const derivative = f.get("derivative");
    if (derivative !== undefined && typeof derivative !== "function") throw new RegistryError(`${label}: derivative must be a function (x, y, params) => expression, got ${fmtValue(derivative)}`);
    checkKernels(label, f.get("kernels"));
    for (const params of variants(specs, defaults)) checkFormula(label, p, specs, params);
  }
  checked.add(plugin);
}

/** Runs `fn`; whatever it throws becomes a {@link RegistryError} naming the activation and the call. */
function guarded<T>(label: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    // messages from the formula's own checks already name the activation
    const detail = e instanceof NeuriteError && e.message.startsWith(label) ? e.message.slice(label.length + 2) : e instanceof Error ? `${what} threw ${e.name}: ${e.message}` : `${what} threw ${fmtValue(e)}`;
    throw new RegistryError(`${label}: ${detail}`, { cause: e });
  }
}

function checkParamSpecs(label: string, name: string, params: unknown): Map<string, ParamSpec> {
  if (!isPlainObject(params)) throw new RegistryError(`${label}: params must be an object of parameter declarations ({} for none), got ${fmtValue(params)}`);
  const out = new Map<string, ParamSpec>();
  for (const [key, raw] of dataFields(params, (k) => `${label}: params.${k}`)) {
    if (!IDENTIFIER.test(key) || key.length > MAX_NAME_LENGTH) throw new RegistryError(`${label}: parameter name ${JSON.stringify(key)} must be an identifier such as "alpha"`);
    if (isPrototypeKey(key)) throw new RegistryError(`${label}: parameter name "${key}" is a property of every object (Object.prototype.${key}); choose another name`);
    if (key === "name") throw new RegistryError(`${label}: parameter name "name" is taken by the activation's name in configs ({ name, ...params }); choose another name`);
    if (!isPlainObject(raw)) throw new RegistryError(`${label}: parameter ${key} must be declared as { default, ... }, got ${fmtValue(raw)}`);
    const at = `${label}: parameter ${key}`;
    const s = dataFields(raw, (k) => `${at}: ${k}`);
    unknownFields(s, SPEC_FIELDS, at);
    const d = s.get("default");
    if (typeof d !== "number" && typeof d !== "string" && typeof d !== "boolean") {
      throw new RegistryError(`${at}: default must be a number, a string or a boolean, got ${fmtValue(d)}`);
    }
    for (const k of ["min", "max"]) {
      const v = s.get(k);
      if (v !== undefined && (typeof v !== "number" || Number.isNaN(v))) throw new RegistryError(`${at}: ${k} must be a number, got ${fmtValue(v)}`);
      if (v !== undefined && typeof d !== "number") throw new RegistryError(`${at}: ${k} applies only to numeric parameters (the default is ${fmtValue(d)})`);
    }
    const min = s.get("min") as number | undefined;
    const max = s.get("max") as number | undefined;
    if (min !== undefined && max !== undefined && min > max) throw new RegistryError(`${at}: min ${min} is greater than max ${max}; swap them`);
    for (const k of ["exclusiveMin", "exclusiveMax", "integer", "trainable", "perChannel"]) {
      const v = s.get(k);
      if (v !== undefined && typeof v !== "boolean") throw new RegistryError(`${at}: ${k} must be a boolean, got ${fmtValue(v)}`);
    }
    if (s.get("description") !== undefined && typeof s.get("description") !== "string") throw new RegistryError(`${at}: description must be a string`);
    if (s.get("integer") === true && typeof d !== "number") throw new RegistryError(`${at}: integer applies only to numeric parameters`);
    if (s.get("trainable") === true && typeof d !== "number") throw new RegistryError(`${at}: only numeric parameters can be trainable (the default is ${fmtValue(d)})`);
    if (s.get("perChannel") === true && s.get("trainable") !== true) throw new RegistryError(`${at}: perChannel applies only to trainable parameters; add trainable: true or remove it`);
    const spec = Object.fromEntries(s) as unknown as ParamSpec;
    const choices = s.get("choices");
    if (choices !== undefined) {
      if (!Array.isArray(choices) || choices.length === 0) throw new RegistryError(`${at}: choices must be a non-empty array of the allowed values, got ${fmtValue(choices)}`);
      const list = [...(choices as unknown[])];
      list.forEach((c, i) => {
        if (typeof c !== typeof d) throw new RegistryError(`${at}: choice ${fmtValue(c)} is not a ${typeof d} like the default ${fmtValue(d)}`);
        if (list.findIndex((other) => Object.is(other, c)) !== i) throw new RegistryError(`${at}: choice ${fmtValue(c)} is listed twice`);
        if (typeof c === "number") checkDeclared(name, key, c, { ...spec, choices: undefined }, "a choice");
      });
      (spec as { choices: readonly ParamValue[] }).choices = Object.freeze(list as ParamValue[]);
    }
    checkDeclared(name, key, d, spec, "the default");
    out.set(key, spec);
  }
  return out;
}

/** A declared value (default or choice) checked like a value given at bind time. */
function checkDeclared(name: string, key: string, value: unknown, spec: ParamSpec, what: string): void {
  try {
    checkParamValue(name, key, value, spec);
  } catch (e) {
    if (e instanceof ArgumentError) throw new ArgumentError(`${e.message} (${what} in the declaration: fix the declaration)`, { cause: e });
    throw e;
  }
}

function checkMeta(label: string, meta: unknown, defaults: ActivationParams): void {
  const expected = "meta must be { range, monotonic, smoothAtZero } or a function of the parameters returning one";
  let m = meta;
  if (typeof meta === "function") m = guarded(label, "meta(params)", () => (meta as (p: ActivationParams) => ActivationMeta)(defaults));
  if (!isPlainObject(m)) throw new RegistryError(`${label}: ${expected}, got ${fmtValue(m)}`);
  const at = `${label}: meta`;
  const fields = dataFields(m, (k) => `${at}.${k}`);
  unknownFields(fields, META_FIELDS, at);
  const range = fields.get("range");
  const ok = Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === "number" && !Number.isNaN(v)) && (range[0] as number) <= (range[1] as number);
  if (!ok) throw new RegistryError(`${at}.range must be [lo, hi] with lo ≤ hi (numbers; ±Infinity for unbounded), got ${fmtValue(range)}`);
  for (const k of ["monotonic", "smoothAtZero"]) {
    if (typeof fields.get(k) !== "boolean") throw new RegistryError(`${at}.${k} must be a boolean, got ${fmtValue(fields.get(k))}`);
  }
}

function checkKernels(label: string, kernels: unknown): void {
  if (kernels === undefined) return;
  if (!isPlainObject(kernels)) throw new RegistryError(`${label}: kernels must be an object keyed by backend name, got ${fmtValue(kernels)}`);
  // a kernel for a backend that is not registered (yet) is allowed: it runs only where a backend of that name is active
  for (const [backend, k] of dataFields(kernels, (b) => `${label}: kernels.${b}`)) {
    if (isPrototypeKey(backend) || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(backend)) {
      throw new RegistryError(`${label}: kernels: backend name ${JSON.stringify(backend)} cannot name a backend (a property of every object, or not a name); key kernels by backend name ("cpu", "wasm")`);
    }
    const where = `${label}: kernels.${backend}`;
    if (!isPlainObject(k)) throw new RegistryError(`${where} must be { forward, backward? } with functions, got ${typeof k === "function" ? "a function" : fmtValue(k)}`);
    const fields = dataFields(k, (key) => `${where}.${key}`);
    unknownFields(fields, KERNEL_FIELDS, where);
    if (typeof fields.get("forward") !== "function" || (fields.get("backward") !== undefined && typeof fields.get("backward") !== "function")) {
      throw new RegistryError(`${where} must be { forward, backward? } with functions`);
    }
  }
}

/**
 * The parameter values the formula is run with: the defaults, then each other choice of a string or boolean
 * parameter (the formula may branch on them, as gelu's `approximate`). Numeric parameters are symbolic.
 */
function variants(specs: Map<string, ParamSpec>, defaults: ActivationParams): ActivationParams[] {
  const out = [defaults];
  for (const [k, spec] of specs) {
    if (typeof spec.default === "number") continue;
    const values = spec.choices ?? (typeof spec.default === "boolean" ? [true, false] : []);
    for (const v of values) if (v !== spec.default && out.length < MAX_VARIANTS) out.push({ ...defaults, [k]: v });
  }
  return out;
}

/** Runs formula and derivative once on symbolic inputs and checks what they read. */
function checkFormula(label: string, plugin: ActivationPlugin, specs: Map<string, ParamSpec>, params: ActivationParams): void {
  const bound = { kind: "bound-activation", plugin, params } as const;
  const prog = guarded(label, "formula(x, params)", () => activationProgram(bound));
  const trainable = trainableParams({ params: Object.fromEntries(specs) });
  const numeric = [...specs.values()].filter((s) => typeof s.default === "number" && !s.trainable).length;
  const check = (e: Expr, what: string, outputAllowed: boolean): void => {
    const a = exprArity(e);
    if (a.inputs > 1 + trainable.length) {
      throw new RegistryError(`${label}: ${what} reads input(${a.inputs - 1}), but may read only x${trainable.length ? ` and its trainable parameters (${trainable.join(", ")})` : ""}: use the x and params it is given`);
    }
    if (a.scalars > numeric) throw new RegistryError(`${label}: ${what} reads scalar(${a.scalars - 1}), but numeric parameters arrive through params: use params.<name>`);
    if (a.usesOutput && !outputAllowed) throw new RegistryError(`${label}: ${what} uses output(); y is only for the derivative (derivative(x, y, params))`);
    if (a.params.length) throw new RegistryError(`${label}: ${what} leaves parameter ${JSON.stringify(a.params[0])} unbound: use the value in params instead of param(…)`);
  };
  check(prog.program, "formula", false);
  if (prog.dx) check(prog.dx, "derivative", true);
  // the derivatives the core will derive must exist (every primitive has a rule, or the formula is refused now)
  if (!prog.dx) guarded(label, "deriving d/dx of the formula", () => derive(prog.program, 0));
  trainable.forEach((name, k) => guarded(label, `deriving d/d${name} of the formula`, () => derive(prog.program, 1 + k)));
}

const F32_MAX = 3.4028234663852886e38;

/**
 * Checks one parameter value against its declaration: the declared type; for numbers not NaN, a finite
 * float32 (the kernels compute in float32: 1e39 would be Infinity there), an integer where declared, and
 * inside [min, max] both as given and as rounded to float32 (1e-46 is 0 in float32).
 */
export function checkParamValue(act: string, key: string, value: unknown, spec: ParamSpec): void {
  const bad = (expected: string): never => {
    throw new ArgumentError(`activation "${act}": parameter ${key} must be ${expected}, got ${fmtValue(value)}`);
  };
  const d = spec.default;
  if (typeof value !== typeof d) bad(`a ${typeof d}`);
  if (spec.choices && !spec.choices.includes(value as never)) bad(`one of ${spec.choices.map(fmtValue).join(", ")}`);
  if (typeof value === "number") {
    if (Number.isNaN(value)) bad("a number (not NaN)");
    const f32 = Math.fround(value);
    if (!Number.isFinite(f32)) bad(`a finite float32 number (magnitude at most ${F32_MAX})`);
    if (spec.integer && !Number.isSafeInteger(value)) bad("an integer");
    const lo = spec.min ?? -Infinity;
    const hi = spec.max ?? Infinity;
    const range = `${spec.exclusiveMin ? "(" : "["}${lo}, ${hi}${spec.exclusiveMax ? ")" : "]"}`;
    const outside = (v: number): boolean => v < lo || (spec.exclusiveMin === true && v === lo) || v > hi || (spec.exclusiveMax === true && v === hi);
    if (outside(value)) bad(`in ${range}`);
    if (outside(f32)) bad(`in ${range} (${value} is ${f32} in float32, the precision the kernels compute in)`);
  }
}
