/**
 * The training worker: owns the backend (wasm, with threads when the page is cross-origin isolated) and the
 * trainer, trains in slices of about 12 ms, and sends a frame (losses, the heat map from one batched predict,
 * per-layer diagnostics) whenever the page has drawn the previous one.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { wasmBackend } from "@neurite/backend-wasm";
import { setBackend, use } from "@neurite/core";
import { gridPoints } from "./data.js";
import { type FromWorker, GRID, type ToWorker } from "./protocol.js";
import { Trainer } from "./trainer.js";

/** Training runs in slices this long between looks at the message queue. */
const SLICE_MS = 12;
/** The most steps one "step" message may ask for (a slice of work the page can wait for). */
const MAX_STEPS_PER_MESSAGE = 100_000;
/** Frames are sent at most this often while playing (the page draws at its own rate). */
const FRAME_MS = 33;

/** The worker's global scope (typed by hand: the DOM and WebWorker libs cannot both be loaded). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let trainer: Trainer | undefined;
let generation = 0;
let playing = false;
let awaitingAck = false;
let dirty = false;
let lastFrameAt = 0;
let scheduled = false;
const grid = gridPoints(GRID);
/** Recent (time, steps, training ms) samples for the rates. */
let rate = { since: 0, steps: 0, trainMs: 0, wallSteps: 0 };
let rates = { steps: 0, wall: 0 };
/** Time spent in optimizer steps since the last reset (single steps excluded). */
let trainMsTotal = 0;

// a MessageChannel wakes the loop at once (nested setTimeout(0) is clamped to 4 ms)
const wake = new MessageChannel();
wake.port1.onmessage = () => {
  scheduled = false;
  loop();
};
function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    wake.port2.postMessage(0);
  }
}

function fail(e: unknown): void {
  playing = false;
  post({ type: "error", generation, message: e instanceof Error ? e.message : String(e) });
}

function loop(): void {
  if (!trainer) return;
  try {
    if (playing) {
      const start = performance.now();
      let now = start;
      do {
        trainer.step(1);
        rate.steps++;
        now = performance.now();
      } while (now - start < SLICE_MS);
      rate.trainMs += now - start;
      trainMsTotal += now - start;
      dirty = true;
      if (now - rate.since >= 1000) {
        rates = { steps: (rate.steps / rate.trainMs) * 1000, wall: (rate.steps / (now - rate.since)) * 1000 };
        rate = { since: now, steps: 0, trainMs: 0, wallSteps: 0 };
      }
    }
    if (dirty && !awaitingAck && (!playing || performance.now() - lastFrameAt >= FRAME_MS)) sendFrame(trainer);
  } catch (e) {
    fail(e);
    return;
  }
  if (playing) schedule();
}

function sendFrame(t: Trainer): void {
  const t0 = performance.now();
  const evaluation = t.evaluate();
  const t1 = performance.now();
  const values = t.predictGrid(grid);
  const t2 = performance.now();
  const diagnostics = t.diagnostics();
  const t3 = performance.now();
  const frame: FromWorker = {
    type: "frame",
    generation,
    steps: t.steps,
    epoch: t.epoch,
    evaluation,
    grid: values,
    diagnostics,
    stepsPerSecond: rates.steps,
    wallStepsPerSecond: rates.wall,
    batchSize: t.batchSize,
    playing,
    trainMs: trainMsTotal,
    timings: { evaluateMs: t1 - t0, gridMs: t2 - t1, diagnosticsMs: t3 - t2 },
  };
  post(frame, [values.buffer]);
  awaitingAck = true;
  dirty = false;
  lastFrameAt = performance.now();
}

// the backend says why it runs on fewer threads than asked with console.warn: keep those for the page too
const warnings: string[] = [];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  warnings.push(args.map(String).join(" "));
  warn(...args);
};

// messages are handled one after another: a reset must wait for the backend that init is still creating
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(() => handle(event.data));
};

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case "init": {
      try {
        use(wasmBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
        const backend = await setBackend("wasm", { threads: m.threads });
        post({ type: "ready", capabilities: backend.capabilities?.() ?? {}, warnings });
      } catch (e) {
        fail(e);
      }
      return;
    }
    case "reset": {
      trainer?.dispose();
      trainer = undefined;
      generation = m.generation;
      rate = { since: performance.now(), steps: 0, trainMs: 0, wallSteps: 0 };
      rates = { steps: 0, wall: 0 };
      trainMsTotal = 0;
      try {
        trainer = new Trainer(m.config, m.split);
      } catch (e) {
        fail(e);
        return;
      }
      dirty = true;
      awaitingAck = false;
      break;
    }
    case "play":
      playing = true;
      rate = { since: performance.now(), steps: 0, trainMs: 0, wallSteps: 0 };
      break;
    case "pause":
      playing = false;
      dirty = true;
      break;
    case "step":
      playing = false;
      try {
        const count = m.count ?? 1;
        if (!Number.isSafeInteger(count) || count < 1 || count > MAX_STEPS_PER_MESSAGE) throw new RangeError(`step: count must be a whole number in [1, ${MAX_STEPS_PER_MESSAGE}], got ${count}`);
        trainer?.step(count);
      } catch (e) {
        fail(e);
        return;
      }
      dirty = true;
      break;
    case "ack":
      awaitingAck = false;
      break;
    case "export": {
      if (!trainer) return;
      const { json, weights } = trainer.save();
      post({ type: "exported", json, weights }, [weights]);
      return;
    }
  }
  schedule();
}
