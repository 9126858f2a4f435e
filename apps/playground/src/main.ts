/**
 * The page: controls (lit-html), charts (canvas), the URL, and the training worker. Every control edits the
 * configuration; a new configuration is written to the URL and rebuilds the worker's trainer. A formula that does
 * not parse, or a parameter out of its range, is shown beside its input and changes nothing, so training goes on.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { type ActivationPlugin, FormulaError, type LayerDiagnostics, type ParamValue, activations, resolveParams, use } from "@neurite/core";
import { html, render } from "lit-html";
import { renderActivationSelect, renderParamControls } from "./activation-controls.js";
import { drawActivation, drawBars, drawHeatmap, drawLossCurve, type ActivationCurve, type CurvePoint } from "./charts.js";
import { DEFAULT_CONFIG, FORMULA, LIMITS, OPTIMIZERS, type LayerConfig, type PlaygroundConfig, decodeConfig, encodeConfig } from "./config.js";
import { DATASETS, DATASET_LABELS, DOMAIN, type Point, type Split, generate, isRegression, splitData } from "./data.js";
import { activationCurve, checkFormula, formulaMessage } from "./plot.js";
import { PRESETS } from "./presets.js";
import { type Frame, type FromWorker, GRID, type ToWorker } from "./protocol.js";

// the main thread needs the activations only (lists, declarations, f and f′); the backend lives in the worker
use(reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);

const DEFAULT_FORMULA = "x * sigmoid(1.702 * x)";

type DrawMode = "off" | "add0" | "add1" | "erase";

interface State {
  config: PlaygroundConfig;
  points: Point[];
  split: Split;
  generation: number;
  /** Formula text being edited, per layer (may not parse). */
  drafts: Map<number, string>;
  formulaErrors: Map<number, FormulaError | Error>;
  paramErrors: Map<number, Record<string, string>>;
  problems: string[];
  capabilities: Readonly<Record<string, string | number | boolean>> | undefined;
  workerError: string | undefined;
  frame: Frame | undefined;
  history: CurvePoint[];
  playing: boolean;
  drawMode: DrawMode;
  /** The keyboard cursor on the map, in data coordinates (undefined while the map has no focus). */
  cursor: { x: number; y: number } | undefined;
  showTest: boolean;
  probe: string;
  fps: number;
  exported: { json: string; bytes: number } | undefined;
}

const initial = decodeConfig(location.search, {
  isActivation: (name) => activations.has(name),
  formulaError: (text) => checkFormula(text)?.message,
});

const state: State = {
  config: initial.config,
  points: [],
  split: { train: [], test: [] },
  generation: 0,
  drafts: new Map(),
  formulaErrors: new Map(),
  paramErrors: new Map(),
  problems: initial.problems,
  capabilities: undefined,
  workerError: undefined,
  frame: undefined,
  history: [],
  playing: false,
  drawMode: "off",
  cursor: undefined,
  showTest: true,
  probe: "",
  fps: 0,
  exported: undefined,
};

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "neurite-trainer" });
const send = (m: ToWorker) => worker.postMessage(m);

let frameToDraw: Frame | undefined;
/** Every frame's accuracies since the last reset (for the browser test: "reached 95 % within N steps"). */
let accuracyLog: { step: number; test: number; train: number }[] = [];
let curvesDirty = true;

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "ready":
      state.capabilities = m.capabilities;
      update();
      break;
    case "frame":
      if (m.generation !== state.generation) {
        send({ type: "ack" });
        return;
      }
      state.frame = m;
      state.workerError = undefined;
      if (state.history.at(-1)?.step !== m.steps) state.history.push({ step: m.steps, train: m.evaluation.trainLoss, test: m.evaluation.testLoss });
      accuracyLog.push({ step: m.steps, test: m.evaluation.testAccuracy, train: m.evaluation.trainAccuracy });
      // long sessions: keep every other entry, so that memory stays bounded and the whole run stays covered
      if (accuracyLog.length > 5000) accuracyLog = accuracyLog.filter((_, i) => i % 2 === 0);
      if (state.history.length > 2000) state.history = state.history.filter((_, i) => i % 2 === 0);
      frameToDraw = m;
      break;
    case "error":
      if (m.generation === state.generation) {
        state.workerError = m.message;
        state.playing = false;
        update();
      }
      break;
    case "exported":
      download("model.json", new Blob([m.json], { type: "application/json" }));
      download("weights.bin", new Blob([m.weights], { type: "application/octet-stream" }));
      state.exported = { json: m.json, bytes: m.weights.byteLength };
      update();
      break;
  }
};
worker.onerror = (e) => {
  state.workerError = e.message || "the training worker failed to start";
  update();
};

function download(name: string, blob: Blob): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Makes `config` current: URL, data, and a fresh trainer in the worker (the play state is kept). */
function applyConfig(config: PlaygroundConfig): void {
  state.config = config;
  history.replaceState(null, "", `?${encodeConfig(config)}`);
  state.points = generate(config.dataset, config.samples, config.noise, config.seed);
  state.split = splitData(state.points, config.edits, config.trainFraction, config.seed);
  state.generation++;
  state.history = [];
  accuracyLog = [];
  state.frame = undefined;
  state.workerError = undefined;
  frameToDraw = undefined;
  curvesDirty = true;
  send({ type: "reset", generation: state.generation, config, split: state.split });
  update();
}

const patch = (p: Partial<PlaygroundConfig>) => applyConfig({ ...state.config, ...p });

function setLayer(i: number, layer: LayerConfig): void {
  patch({ layers: state.config.layers.map((l, k) => (k === i ? layer : l)) });
}

function setActivation(i: number, name: string): void {
  const layer = state.config.layers[i]!;
  state.paramErrors.delete(i);
  state.formulaErrors.delete(i);
  if (name === FORMULA) {
    const text = state.drafts.get(i) ?? (layer.formula || DEFAULT_FORMULA);
    state.drafts.set(i, text);
    const error = checkFormula(text);
    if (error) {
      state.formulaErrors.set(i, error);
      update();
      return;
    }
    setLayer(i, { ...layer, activation: FORMULA, params: {}, formula: text });
  } else {
    setLayer(i, { ...layer, activation: name, params: {}, formula: "" });
  }
}

/** A typed formula: applied when it parses; otherwise its error is shown and the layer keeps its activation. */
function submitFormula(i: number, text: string): void {
  state.drafts.set(i, text);
  const error = checkFormula(text);
  if (error) {
    state.formulaErrors.set(i, error);
    update();
    return;
  }
  state.formulaErrors.delete(i);
  setLayer(i, { ...state.config.layers[i]!, activation: FORMULA, params: {}, formula: text });
}

function setParam(i: number, plugin: ActivationPlugin, name: string, value: ParamValue): void {
  const layer = state.config.layers[i]!;
  const params = { ...layer.params, [name]: value };
  const errors = { ...state.paramErrors.get(i) };
  try {
    resolveParams(plugin, params);
  } catch (e) {
    errors[name] = e instanceof Error ? e.message : String(e);
    state.paramErrors.set(i, errors);
    update();
    return;
  }
  delete errors[name];
  state.paramErrors.set(i, errors);
  // only values that differ from the declaration's default are kept (and written to the URL)
  const changed = Object.fromEntries(Object.entries(params).filter(([k, v]) => v !== (plugin.params as Record<string, { default: ParamValue }>)[k]?.default));
  setLayer(i, { ...layer, params: changed });
}

function addLayer(): void {
  const last = state.config.layers.at(-1) ?? DEFAULT_CONFIG.layers[0]!;
  if (state.config.layers.length < LIMITS.layers.max) patch({ layers: [...state.config.layers, { ...last }] });
}

function removeLayer(i: number): void {
  if (state.config.layers.length <= LIMITS.layers.min) return;
  for (const m of [state.drafts, state.formulaErrors, state.paramErrors] as Map<number, unknown>[]) m.clear();
  patch({ layers: state.config.layers.filter((_, k) => k !== i) });
}

function setPlaying(playing: boolean): void {
  state.playing = playing;
  send({ type: playing ? "play" : "pause" });
  update();
}

// ---- the heat map: drawing points and the probability under the cursor ----

function domainPoint(canvas: HTMLCanvasElement, e: MouseEvent): { x: number; y: number } {
  const r = canvas.getBoundingClientRect();
  return { x: ((e.clientX - r.left) / r.width) * 2 * DOMAIN - DOMAIN, y: DOMAIN - ((e.clientY - r.top) / r.height) * 2 * DOMAIN };
}

function onMapClick(e: MouseEvent): void {
  drawAt(domainPoint(e.currentTarget as HTMLCanvasElement, e));
}

/** Adds or erases points at `p` (in data coordinates), as the draw mode says. */
function drawAt(p: { x: number; y: number }): void {
  const mode = state.drawMode;
  if (mode === "off") return;
  const { added, removed } = state.config.edits;
  const regression = isRegression(state.config.dataset);
  if (mode === "erase") {
    const near = (q: { x: number; y: number }) => Math.hypot(q.x - p.x, q.y - p.y) < 0.5;
    const gone = state.points.flatMap((q, i) => (near(q) && !removed.includes(i) ? [i] : []));
    const keptAdded = added.filter((q) => !near(q));
    if (gone.length === 0 && keptAdded.length === added.length) return;
    patch({ edits: { added: keptAdded, removed: [...removed, ...gone].sort((a, b) => a - b) } });
  } else if (added.length < LIMITS.addedPoints) {
    const label = mode === "add1" ? 1 : regression ? -1 : 0;
    patch({ edits: { added: [...added, { x: Math.round(p.x * 100) / 100, y: Math.round(p.y * 100) / 100, label }], removed } });
  }
}

function onMapMove(e: MouseEvent): void {
  probeAt(domainPoint(e.currentTarget as HTMLCanvasElement, e));
}

/**
 * The keyboard's way over the map: arrows move a cursor (shift: 4× farther), Enter or Space draws there, and the
 * probe reads the prediction under it.
 */
function onMapKey(e: KeyboardEvent): void {
  const step = e.shiftKey ? 1 : 0.25;
  const move: Readonly<Record<string, [number, number]>> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
  const c = state.cursor ?? { x: 0, y: 0 };
  const clamp = (v: number) => Math.max(-DOMAIN, Math.min(DOMAIN, v));
  if (e.key in move) {
    const [dx, dy] = move[e.key]!;
    state.cursor = { x: clamp(c.x + dx), y: clamp(c.y + dy) };
    probeAt(state.cursor);
  } else if (e.key === "Enter" || e.key === " ") {
    state.cursor = c;
    drawAt(c);
  } else return;
  e.preventDefault();
  curvesDirty = true;
}

/** The prediction under a point of the map, in words. */
function probeAt(p: { x: number; y: number }): void {
  const frame = state.frame;
  if (!frame) return;
  const col = Math.min(GRID - 1, Math.max(0, Math.floor(((p.x + DOMAIN) / (2 * DOMAIN)) * GRID)));
  const row = Math.min(GRID - 1, Math.max(0, Math.floor(((DOMAIN - p.y) / (2 * DOMAIN)) * GRID)));
  const v = frame.grid[row * GRID + col]!;
  const at = `at (${p.x.toFixed(1)}, ${p.y.toFixed(1)})`;
  if (isRegression(state.config.dataset)) state.probe = `${at}: predicted ${v.toFixed(2)}`;
  else {
    const blue = v >= 0.5;
    state.probe = `${at}: ${Math.round((blue ? v : 1 - v) * 100)} % confident: ${blue ? "blue" : "orange"}` + (state.config.output === "softmax" ? " (softmax)" : " (sigmoid)");
  }
  update();
}

// ---- rendering ----

const curveCache = new Map<string, ActivationCurve | string>();

/** f and f′ of a layer's activation (or why there is no scalar curve), cached by configuration. */
function layerCurve(layer: LayerConfig): ActivationCurve | string {
  const key = JSON.stringify([layer.activation, layer.params, layer.formula]);
  let c = curveCache.get(key);
  if (c === undefined) {
    c = activationCurve(layer);
    curveCache.set(key, c);
  }
  return c;
}

function layerView(layer: LayerConfig, i: number) {
  const id = `layer${i}`;
  const isFormula = layer.activation === FORMULA;
  const plugin = isFormula ? undefined : activations.get(layer.activation);
  const formulaError = state.formulaErrors.get(i);
  const curve = layerCurve(layer);
  return html`<section class="layer" aria-label=${`hidden layer ${i + 1}`} data-layer=${i}>
    <header>
      <h3>Layer ${i + 1}</h3>
      <button class="small" title="remove this layer" aria-label=${`remove layer ${i + 1}`} ?disabled=${state.config.layers.length <= 1} @click=${() => removeLayer(i)}>✕</button>
    </header>
    <div class="row">
      <label for=${`${id}-units`}>units</label>
      <input id=${`${id}-units`} class="units" type="number" min=${LIMITS.units.min} max=${LIMITS.units.max} step="1" .value=${String(layer.units)}
        @change=${(e: Event) => {
          const v = Number((e.target as HTMLInputElement).value);
          if (Number.isInteger(v) && v >= LIMITS.units.min && v <= LIMITS.units.max) setLayer(i, { ...layer, units: v });
          else update();
        }} />
    </div>
    <div class="row">
      <label for=${`${id}-activation`}>activation</label>
      ${renderActivationSelect(`${id}-activation`, layer.activation, FORMULA, (name) => setActivation(i, name))}
    </div>
    ${isFormula || state.drafts.has(i) && formulaError
      ? html`<div class="formula">
          <label for=${`${id}-formula`}>f(x) =</label>
          <input id=${`${id}-formula`} class="formula-input" type="text" spellcheck="false" .value=${state.drafts.get(i) ?? layer.formula}
            aria-invalid=${formulaError ? "true" : "false"} aria-describedby=${`${id}-formula-error`}
            @change=${(e: Event) => submitFormula(i, (e.target as HTMLInputElement).value)} />
          ${formulaError ? html`<pre class="error formula-error" id=${`${id}-formula-error`} role="alert">${formulaMessage(formulaError)}</pre>` : ""}
          ${formulaError && isFormula ? html`<p class="muted">still training with f(x) = ${layer.formula}</p>` : formulaError ? html`<p class="muted">still training with ${layer.activation}</p>` : ""}
        </div>`
      : ""}
    ${plugin
      ? renderParamControls({ id, plugin, values: layer.params, errors: state.paramErrors.get(i) ?? {}, onChange: (name, value) => setParam(i, plugin, name, value) })
      : ""}
    ${typeof curve === "string"
      ? html`<p class="muted curve-note">${curve}</p>`
      : html`<canvas class="fplot" data-layer=${i} width="200" height="90" role="img" aria-label=${`f (solid) and f′ (dashed) of layer ${i + 1}'s activation over [−6, 6]`}></canvas>`}
  </section>`;
}

function metric(label: string, value: string, id: string) {
  return html`<div class="metric"><span class="label">${label}</span> <span id=${id} class="value">${value}</span></div>`;
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(1)} %`);
const num = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? (v === undefined ? "–" : "diverged (NaN)") : v.toFixed(d));

function view() {
  const c = state.config;
  const f = state.frame;
  const caps = state.capabilities;
  const regression = isRegression(c.dataset);
  const threads = caps ? Number(caps.threads) : undefined;
  return html`
    <header class="top">
      <h1>Neurite playground <span class="muted">activation lab</span></h1>
      <div class="controls" role="toolbar" aria-label="training">
        <button id="play" class="primary" @click=${() => setPlaying(!state.playing)} aria-pressed=${state.playing ? "true" : "false"}>${state.playing ? "❚❚ Pause" : "▶ Play"}</button>
        <button id="step" @click=${() => { state.playing = false; send({ type: "step" }); update(); }}>Step</button>
        <button id="reset" @click=${() => applyConfig(state.config)}>Reset</button>
        ${metric("epoch", f ? f.epoch.toFixed(1) : "0", "epoch")}
        ${metric("steps", f ? String(f.steps) : "0", "steps")}
        ${metric("steps/s", f && f.stepsPerSecond ? f.stepsPerSecond.toFixed(0) : "–", "rate")}
        ${metric("page fps", state.fps ? state.fps.toFixed(0) : "–", "fps")}
        <span id="backend" class="muted">${caps ? `wasm · ${threads} thread${threads === 1 ? "" : "s"}` : "starting the wasm backend…"}</span>
      </div>
      ${caps?.threadsFallbackReason
        ? html`<p id="threads-notice" class="notice" role="status">Training runs on 1 thread: ${String(caps.threadsFallbackReason)}. Serve the page with these headers (as <code>pnpm playground</code> does) for ${c.threads} threads.</p>`
        : ""}
      ${state.problems.length ? html`<div id="url-problems" class="notice" role="status">The link had values that could not be used:<ul>${state.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ""}
      ${state.workerError ? html`<p id="worker-error" class="error" role="alert">Training stopped: ${state.workerError}</p>` : ""}
    </header>
    <nav class="presets" aria-label="presets">
      <span class="muted">Presets:</span>
      ${PRESETS.map((p) => html`<button class="preset" data-preset=${p.id} title=${p.point} @click=${() => { state.drafts.clear(); state.formulaErrors.clear(); state.paramErrors.clear(); applyConfig(p.config); }}>${p.title}</button>`)}
    </nav>
    <div class="columns">
      <section class="panel data" aria-label="data">
        <h2>Data</h2>
        <div class="datasets" role="radiogroup" aria-label="data set">
          ${DATASETS.map((d) => html`<label class="radio"><input type="radio" name="dataset" value=${d} .checked=${c.dataset === d} @change=${() => patch({ dataset: d, edits: { added: [], removed: [] } })} /> ${DATASET_LABELS[d]}</label>`)}
        </div>
        ${slider("noise", "noise", c.noise, 0, 0.5, 0.05, (v) => `${Math.round(v * 100)} %`, (v) => patch({ noise: v }))}
        ${slider("train", "training data", c.trainFraction, 0.1, 0.9, 0.1, (v) => `${Math.round(v * 100)} %`, (v) => patch({ trainFraction: v }))}
        ${slider("samples", "points", c.samples, 50, 1000, 50, (v) => String(v), (v) => patch({ samples: v }))}
        <fieldset class="draw">
          <legend>Draw on the map</legend>
          ${(["off", "add0", "add1", "erase"] as const).map((m) => html`<label class="radio"><input type="radio" name="draw" value=${m} .checked=${state.drawMode === m} @change=${() => { state.drawMode = m; update(); }} />
            ${m === "off" ? "off" : m === "add0" ? (regression ? "add −1 (orange)" : "add orange") : m === "add1" ? (regression ? "add +1 (blue)" : "add blue") : "erase"}</label>`)}
          <p class="muted">${c.edits.added.length} added, ${c.edits.removed.length} erased</p>
        </fieldset>
        <label class="radio"><input id="show-test" type="checkbox" .checked=${state.showTest} @change=${(e: Event) => { state.showTest = (e.target as HTMLInputElement).checked; frameToDraw = state.frame; update(); }} /> show test points</label>
      </section>
      <section class="panel network" aria-label="network">
        <h2>Network <span class="muted">2 → ${c.layers.map((l) => l.units).join(" → ")} → ${c.output === "softmax" && !regression ? 2 : 1}</span></h2>
        <div class="row training">
          <span class="field"><label for="optimizer">optimizer</label>
          <select id="optimizer" @change=${(e: Event) => patch({ optimizer: (e.target as HTMLSelectElement).value as PlaygroundConfig["optimizer"] })}>
            ${OPTIMIZERS.map((o) => html`<option value=${o} .selected=${o === c.optimizer}>${o === "momentum" ? "sgd + momentum 0.9" : o}</option>`)}
          </select></span>
          ${numberInput("lr", "learning rate", c.lr, LIMITS.lr, false, (v) => patch({ lr: v }))}
          ${numberInput("batch", "batch size", c.batchSize, LIMITS.batchSize, true, (v) => patch({ batchSize: v }))}
          ${numberInput("l2", "L2", c.l2, LIMITS.l2, false, (v) => patch({ l2: v }))}
          ${numberInput("seed", "seed", c.seed, LIMITS.seed, true, (v) => patch({ seed: v }))}
          <span class="field"><label for="output">output</label>
          <select id="output" ?disabled=${regression} @change=${(e: Event) => patch({ output: (e.target as HTMLSelectElement).value as PlaygroundConfig["output"] })}>
            <option value="sigmoid" .selected=${c.output === "sigmoid"}>1 sigmoid unit</option>
            <option value="softmax" .selected=${c.output === "softmax"}>2 softmax units</option>
          </select></span>
        </div>
        <div class="layers">${c.layers.map(layerView)}</div>
        <button id="add-layer" ?disabled=${c.layers.length >= LIMITS.layers.max} @click=${addLayer}>+ layer</button>
      </section>
      <section class="panel output" aria-label="output">
        <h2>Output</h2>
        <canvas id="heatmap" width="360" height="360" class=${state.drawMode === "off" ? "" : "drawing"} role="img"
          aria-label="decision boundary: the network's output over the plane, with training points (white outline) and test points (black outline)"
          tabindex="0" aria-describedby="map-keys" @click=${onMapClick} @mousemove=${onMapMove} @keydown=${onMapKey}
          @blur=${() => { state.cursor = undefined; curvesDirty = true; }}></canvas>
        <p id="map-keys" class="muted keys">keyboard: arrows move the cursor (shift: farther), Enter draws in the chosen mode</p>
        <p id="probe" class="probe" aria-live="polite">${state.probe || "move the cursor over the map"}</p>
        <div class="metrics">
          ${metric("train loss", num(f?.evaluation.trainLoss), "train-loss")}
          ${metric("test loss", num(f?.evaluation.testLoss), "test-loss")}
          ${regression ? "" : metric("train accuracy", pct(f?.evaluation.trainAccuracy), "train-accuracy")}
          ${regression ? "" : metric("test accuracy", pct(f?.evaluation.testAccuracy), "test-accuracy")}
        </div>
        <h3>Loss <span class="legend"><span class="swatch train"></span>train <span class="swatch test"></span>test</span></h3>
        <canvas id="loss" width="360" height="120" role="img" aria-label="training and test loss against steps"></canvas>
        <h3>Gradient norm per layer <span class="muted">(log scale)</span></h3>
        <canvas id="grads" width="360" height="${barsHeight()}" role="img" aria-label="L2 norm of each layer's weight gradient"></canvas>
        <h3>Dead units per layer</h3>
        <canvas id="dead" width="360" height="${barsHeight()}" role="img" aria-label="fraction of each layer's units that output 0 for every training point"></canvas>
        <div class="export">
          <button id="export" @click=${() => send({ type: "export" })}>Export model (model.json + weights.bin)</button>
          ${state.exported ? html`<span class="muted" id="exported">saved: ${state.exported.json.length} B of JSON, ${state.exported.bytes} B of weights</span>` : ""}
        </div>
      </section>
    </div>`;
}

const barsHeight = () => 14 * (state.config.layers.length + 1) + 4;

function slider(id: string, label: string, value: number, min: number, max: number, step: number, fmt: (v: number) => string, set: (v: number) => void) {
  return html`<div class="row">
    <label for=${id}>${label}</label>
    <input id=${id} type="range" min=${min} max=${max} step=${step} .value=${String(value)} @change=${(e: Event) => set(Number((e.target as HTMLInputElement).value))} />
    <span class="value">${fmt(value)}</span>
  </div>`;
}

function numberInput(id: string, label: string, value: number, lim: { min: number; max: number }, integer: boolean, set: (v: number) => void) {
  return html`<span class="field"><label for=${id}>${label}</label>
    <input id=${id} type="number" min=${lim.min} max=${lim.max} step=${integer ? "1" : "any"} .value=${String(value)}
      @change=${(e: Event) => {
        const el = e.target as HTMLInputElement;
        const v = Number(el.value);
        if (el.value.trim() !== "" && Number.isFinite(v) && v >= lim.min && v <= lim.max && (!integer || Number.isInteger(v))) set(v);
        else {
          el.value = String(value);
          el.setCustomValidity("");
        }
      }} /></span>`;
}

const root = document.getElementById("app")!;
root.replaceChildren(); // drop the "Loading…" placeholder: lit-html renders after existing children
let renderQueued = false;

/** Re-renders the controls (lit-html patches only what changed) and redraws the activation plots. */
function update(): void {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render(view(), root);
    for (const canvas of root.querySelectorAll<HTMLCanvasElement>("canvas.fplot")) {
      const layer = state.config.layers[Number(canvas.dataset.layer)];
      const curve = layer ? layerCurve(layer) : undefined;
      if (curve === undefined || typeof curve === "string") continue;
      if ((canvas as { drawn?: ActivationCurve }).drawn !== curve) {
        drawActivation(canvas, curve);
        (canvas as { drawn?: ActivationCurve }).drawn = curve;
      }
    }
    curvesDirty = true;
  });
}

function drawFrame(frame: Frame | undefined): void {
  const c = state.config;
  drawHeatmap(root.querySelector("#heatmap")!, frame?.grid, GRID, isRegression(c.dataset), state.split.train, state.split.test, state.showTest, state.cursor);
  drawLossCurve(root.querySelector("#loss")!, state.history);
  const diag: readonly LayerDiagnostics[] = frame?.diagnostics ?? [];
  const rows = (pick: (d: LayerDiagnostics) => number) => diag.map((d, i) => ({ label: i < c.layers.length ? `layer ${i + 1}` : "output", value: pick(d) }));
  drawBars(root.querySelector("#grads")!, rows((d) => d.gradNorm), { log: true, format: (v) => (Number.isFinite(v) ? v.toExponential(1) : "NaN") });
  drawBars(root.querySelector("#dead")!, rows((d) => d.deadFraction).slice(0, c.layers.length), { log: false, max: 1, format: (v) => `${Math.round(v * 100)} %` });
}

// the page's own animation loop: draws the newest frame, then lets the worker send the next
let frames = 0;
let fpsSince = performance.now();
function animate(now: number): void {
  frames++;
  if (now - fpsSince >= 1000) {
    state.fps = (frames * 1000) / (now - fpsSince);
    frames = 0;
    fpsSince = now;
    update();
  }
  if (frameToDraw || curvesDirty) {
    const frame = frameToDraw;
    frameToDraw = undefined;
    curvesDirty = false;
    drawFrame(frame ?? state.frame);
    if (frame) {
      send({ type: "ack" });
      update();
    }
  }
  requestAnimationFrame(animate);
}

/** For the browser test: the state as data (the plotted curves, the newest frame's numbers). */
const testHooks = {
  config: () => state.config,
  url: () => location.search,
  capabilities: () => state.capabilities,
  frame: () => (state.frame ? { steps: state.frame.steps, epoch: state.frame.epoch, ...state.frame.evaluation, stepsPerSecond: state.frame.stepsPerSecond, wallStepsPerSecond: state.frame.wallStepsPerSecond, batchSize: state.frame.batchSize, diagnostics: state.frame.diagnostics, timings: state.frame.timings, trainMs: state.frame.trainMs } : undefined),
  curve: (layer: number) => {
    const l = state.config.layers[layer];
    return l ? layerCurve(l) : undefined;
  },
  fps: () => state.fps,
  accuracyLog: () => accuracyLog,
  playing: () => state.playing,
  problems: () => state.problems,
  exported: () => state.exported,
  /** Pauses and trains exactly `count` steps (then a frame arrives): accuracy sampled at fixed steps, whatever the speed. */
  stepBy: (count: number) => {
    state.playing = false;
    send({ type: "step", count });
    update();
  },
};
(globalThis as { __playground?: typeof testHooks }).__playground = testHooks;

send({ type: "init", threads: state.config.threads });
applyConfig(state.config);
requestAnimationFrame(animate);
