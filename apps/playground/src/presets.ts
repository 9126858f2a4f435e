/** One-click configurations that replay the activation tutorial's points. */
import { DEFAULT_CONFIG, type LayerConfig, type PlaygroundConfig } from "./config.js";

const layers = (count: number, units: number, activation: string, params: LayerConfig["params"] = {}): LayerConfig[] =>
  Array.from({ length: count }, () => ({ units, activation, params, formula: "" }));

const base: PlaygroundConfig = { ...DEFAULT_CONFIG, edits: { added: [], removed: [] } };

export interface Preset {
  readonly id: string;
  readonly title: string;
  /** What to look at. */
  readonly point: string;
  readonly config: PlaygroundConfig;
}

export const PRESETS: readonly Preset[] = [
  {
    id: "spiral-identity",
    title: "Spirals, identity",
    point: "Without a non-linearity, three layers are one linear map: the boundary stays a straight line and test accuracy stays near chance.",
    config: { ...base, dataset: "spiral", layers: layers(3, 16, "linear") },
  },
  {
    id: "spiral-relu",
    title: "Spirals, ReLU",
    point: "The same network with ReLU bends the boundary around both arms.",
    config: { ...base, dataset: "spiral", layers: layers(3, 16, "relu") },
  },
  {
    id: "sigmoid-deep",
    title: "Sigmoid × 10 layers",
    point: "σ′ ≤ 1/4, so the gradient shrinks layer by layer: watch the gradient-norm bars fade toward the input while the loss barely moves.",
    config: { ...base, dataset: "circle", layers: layers(10, 8, "sigmoid"), optimizer: "sgd", lr: 0.3 },
  },
  {
    id: "relu-high-lr",
    title: "ReLU, high learning rate",
    point: "A large step pushes many ReLU units to output 0 for every input; they get no gradient and never recover (see dead units).",
    config: { ...base, dataset: "circle", layers: layers(3, 8, "relu"), optimizer: "sgd", lr: 3 },
  },
  {
    id: "leaky-high-lr",
    title: "LeakyReLU, high learning rate",
    point: "The same step with LeakyReLU: the small negative slope keeps every unit's gradient alive.",
    config: { ...base, dataset: "circle", layers: layers(3, 8, "leakyRelu"), optimizer: "sgd", lr: 3 },
  },
  {
    id: "softmax-confidence",
    title: "Softmax confidence",
    point: "Two softmax outputs give class probabilities: move the cursor over the map to read how confident the network is; it is confident far from any data too.",
    config: { ...base, dataset: "gauss", noise: 0.3, layers: layers(2, 8, "tanh"), output: "softmax" },
  },
];
