// Browser test of the playground: builds the app with Vite, serves the static build twice (plain, then
// cross-origin isolated, as any static host would), and drives Debian's chromium with playwright-core.
// It checks outcomes only (never speed); the frame and step rates it measures are printed, not asserted.
// Screenshots go to e2e/out/ (gitignored). Prints `e2e: N passed, M failed` and exits non-zero on any failure.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build, preview } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, "..");
const outDir = join(here, "dist");
const shots = join(here, "out");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
/** Steps within which ReLU must reach 95 % test accuracy on the spirals (it takes about 700 in Node). */
const RELU_STEPS = 3000;
/** Steps between the accuracy samples of that check. */
const RELU_SAMPLE_EVERY = 250;
/** Generous: this runs on a loaded 2-core machine; every wait is for an outcome, never a speed. */
const LONG = 240_000;

await build({ root: appRoot, logLevel: "warn", build: { outDir, emptyOutDir: true } });
await mkdir(shots, { recursive: true });

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
}

const profile = await mkdtemp(join(tmpdir(), "neurite-playground-e2e-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Opens the app; collects console errors, page errors and any request that leaves the server. */
async function open(server, query = "") {
  const page = await context.newPage();
  const problems = [];
  const base = server.resolvedUrls.local[0];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith("blob:") && !url.startsWith("data:")) problems.push(`fetched from outside: ${url}`);
  });
  await page.goto(`${base}${query}`);
  await page.waitForFunction(() => window.__playground?.capabilities() !== undefined && window.__playground.frame() !== undefined, undefined, { timeout: LONG });
  return { page, problems };
}

const hooks = (page, fn, arg) => page.evaluate(fn, arg);
const frame = (page) => hooks(page, () => window.__playground.frame());
const config = (page) => hooks(page, () => window.__playground.config());

async function play(page) {
  if (!(await hooks(page, () => window.__playground.playing()))) await page.click("#play");
}
async function pause(page) {
  if (await hooks(page, () => window.__playground.playing())) await page.click("#play");
}
/** Plays until `steps` optimizer steps are done, then pauses. */
async function trainTo(page, steps) {
  await play(page);
  await page.waitForFunction((n) => (window.__playground.frame()?.steps ?? 0) >= n, steps, { timeout: LONG, polling: 100 });
  await pause(page);
}
/**
 * Trains exactly `steps` steps in chunks of `every` (paused, the Step message with a count), waiting for each
 * chunk's frame: the accuracy log then holds a sample at every multiple of `every`, however fast the steps run
 * (frames while playing come every 33 ms, so their step spacing grows with the speed).
 */
async function stepTo(page, steps, every) {
  await pause(page);
  for (let done = every; done <= steps; done += every) {
    await hooks(page, (n) => window.__playground.stepBy(n), every);
    await page.waitForFunction((n) => (window.__playground.frame()?.steps ?? 0) >= n, done, { timeout: LONG, polling: 50 });
  }
}
async function choosePreset(page, id) {
  await page.click(`[data-preset="${id}"]`);
  await page.waitForFunction(() => window.__playground.frame()?.steps === 0, undefined, { timeout: LONG });
}
/** Frames per second of the page and training steps per second, measured over `ms` of play. */
async function measure(page, ms) {
  await play(page);
  await page.waitForTimeout(1500); // past the first second's rate window
  const before = await frame(page);
  const t0 = Date.now();
  const timings = [];
  while (Date.now() - t0 < ms) {
    await page.waitForTimeout(250);
    timings.push((await frame(page)).timings);
  }
  const after = await frame(page);
  const median = (key) => timings.map((t) => t[key]).sort((a, b) => a - b)[timings.length >> 1];
  const fps = await hooks(page, () => window.__playground.fps());
  const elapsed = (Date.now() - t0) / 1000;
  await pause(page);
  // training alone: steps over the time the worker spent in them; with frames: steps over wall time
  return { fps, stepsPerSecond: ((after.steps - before.steps) / (after.trainMs - before.trainMs)) * 1000, wallStepsPerSecond: (after.steps - before.steps) / elapsed, batch: after.batchSize, gridMs: median("gridMs"), evaluateMs: median("evaluateMs"), diagnosticsMs: median("diagnosticsMs") };
}

const speeds = [];
try {
  for (const isolated of [false, true]) {
    // configFile: false: serve the static files with exactly these headers (vite.config.ts adds COOP/COEP to preview)
    const server = await preview({ configFile: false, root: appRoot, logLevel: "warn", build: { outDir }, preview: { host: "127.0.0.1", port: 0, headers: isolated ? isolation : {} } });
    const label = isolated ? "isolated" : "plain";
    try {
      const { page, problems } = await open(server);
      const caps = await hooks(page, () => window.__playground.capabilities());
      check(`${label}: crossOriginIsolated is ${isolated}`, (await page.evaluate(() => globalThis.crossOriginIsolated)) === isolated, "");
      if (isolated) {
        check(`${label}: trains on 2 threads, no notice`, caps.threads === 2 && caps.sharedMemory === true && (await page.$("#threads-notice")) === null, JSON.stringify(caps));
      } else {
        const notice = await page.textContent("#threads-notice").catch(() => null);
        check(`${label}: trains on 1 thread and says why on the page`, caps.threads === 1 && /1 thread/.test(notice ?? "") && /cross-origin isolated/.test(notice ?? ""), `${JSON.stringify(caps)} notice=${notice}`);
      }
      await page.screenshot({ path: join(shots, `${label}-start.png`) });

      // ReLU reaches 95 % test accuracy on the spirals; identity does not leave chance
      await choosePreset(page, "spiral-relu");
      await stepTo(page, RELU_STEPS, RELU_SAMPLE_EVERY);
      const reluLog = await hooks(page, () => window.__playground.accuracyLog());
      const reached = reluLog.find((r) => r.test >= 0.95);
      check(`${label}: spirals with ReLU (2-16-16-16-1, adam 0.01, batch 10) reach ≥ 95 % test accuracy within ${RELU_STEPS} steps (first at step ${reached?.step}, ${reluLog.length} frames)`, reached !== undefined && reached.step <= RELU_STEPS, JSON.stringify(reluLog.slice(-5)));
      await page.hover("#heatmap", { position: { x: 60, y: 60 } });
      await page.screenshot({ path: join(shots, `${label}-spirals-relu.png`) });

      await choosePreset(page, "spiral-identity");
      await trainTo(page, RELU_STEPS);
      const idLog = (await hooks(page, () => window.__playground.accuracyLog())).filter((r) => r.step >= 200);
      const idMax = Math.max(...idLog.map((r) => r.test));
      check(`${label}: spirals with identity stay near chance (best test accuracy ${(idMax * 100).toFixed(1)} % over ${idLog.length} frames, ≤ 70 %)`, idLog.length > 0 && idMax <= 0.7, JSON.stringify(idLog.slice(-5)));

      if (isolated) {
        // a typed formula trains
        await choosePreset(page, "spiral-relu");
        const text = "x * sigmoid(1.702 * x)";
        for (const i of [0, 1, 2]) {
          await page.selectOption(`#layer${i}-activation`, "formula");
          await page.fill(`#layer${i}-formula`, text);
          await page.press(`#layer${i}-formula`, "Enter");
        }
        const formulaConfig = await config(page);
        check(`${label}: a typed formula becomes the layers' activation`, formulaConfig.layers.every((l) => l.activation === "formula" && l.formula === text), JSON.stringify(formulaConfig.layers));
        const start = await frame(page);
        await trainTo(page, 1500);
        const trained = await frame(page);
        check(`${label}: the formula ${text} trains (train loss ${start.trainLoss.toFixed(3)} → ${trained.trainLoss.toFixed(3)}, test accuracy ${(trained.testAccuracy * 100).toFixed(1)} %)`, trained.trainLoss < start.trainLoss * 0.5 && trained.testAccuracy > 0.8, JSON.stringify(trained));

        // a malformed formula: its error beside the input, and training goes on with the previous one
        await play(page);
        await page.fill("#layer0-formula", "x * sigmoid(1.702 * ");
        await page.press("#layer0-formula", "Enter");
        const errorText = await page.textContent("[data-layer='0'] .formula-error").catch(() => null);
        const keptConfig = await config(page);
        const stepsAtError = (await frame(page)).steps;
        await page.waitForFunction((n) => window.__playground.frame().steps > n + 50, stepsAtError, { timeout: LONG });
        check(`${label}: a malformed formula shows its error (with a caret) beside the input`, errorText !== null && /\^/.test(errorText) && /expected/i.test(errorText), String(errorText));
        check(`${label}: training continues with the previous formula`, keptConfig.layers[0].formula === text && (await frame(page)).steps > stepsAtError + 50, JSON.stringify(keptConfig.layers[0]));
        await page.screenshot({ path: join(shots, `${label}-formula-error.png`) });
        await pause(page);

        // a parameter changes the f / f′ plot (the plotted data and the canvas pixels)
        await page.selectOption("#layer1-activation", "elu");
        await page.waitForSelector("#layer1-alpha");
        const curveBefore = await hooks(page, () => window.__playground.curve(1));
        const pixelsBefore = await page.$eval("canvas.fplot[data-layer='1']", (c) => c.toDataURL());
        await page.fill("#layer1-alpha", "3");
        await page.press("#layer1-alpha", "Enter");
        await page.waitForFunction(() => window.__playground.config().layers[1].params.alpha === 3, undefined, { timeout: LONG });
        await page.waitForTimeout(300);
        const curveAfter = await hooks(page, () => window.__playground.curve(1));
        const pixelsAfter = await page.$eval("canvas.fplot[data-layer='1']", (c) => c.toDataURL());
        // elu(−6) = α(e^−6 − 1): −0.9975 at α = 1, −2.9926 at α = 3
        const f0 = curveBefore.f[0], f1 = curveAfter.f[0];
        check(`${label}: elu α 1 → 3 changes the f / f′ plot (f(−6) ${f0.toFixed(4)} → ${f1.toFixed(4)}; canvas pixels ${pixelsBefore === pixelsAfter ? "unchanged" : "changed"})`, Math.abs(f0 - (Math.exp(-6) - 1)) < 1e-9 && Math.abs(f1 - 3 * (Math.exp(-6) - 1)) < 1e-9 && pixelsBefore !== pixelsAfter, `${f0} ${f1}`);
        // an out-of-range value is refused beside its input and changes nothing
        await page.fill("#layer1-alpha", "-1");
        await page.press("#layer1-alpha", "Enter");
        const paramError = await page.textContent("[data-layer='1'] .param .error").catch(() => null);
        check(`${label}: an out-of-range parameter shows its error and changes nothing`, paramError !== null && (await config(page)).layers[1].params.alpha === 3, String(paramError));

        // the URL round-trips the configuration
        await page.fill("#lr", "0.02");
        await page.press("#lr", "Enter");
        await page.waitForFunction(() => window.__playground.config().lr === 0.02, undefined, { timeout: LONG });
        const url = page.url();
        const before = await config(page);
        const second = await open(server, new URL(url).search);
        const after = await config(second.page);
        check(`${label}: the URL round-trips the configuration (formula, elu α, lr)`, JSON.stringify(after) === JSON.stringify(before) && second.page.url() === url, `${JSON.stringify(before)}\n${JSON.stringify(after)}`);
        check(`${label}: second page: no console errors`, second.problems.length === 0, second.problems.join("; "));
        await second.page.close();

        // export: a Neurite model file
        await page.click("#export");
        await page.waitForFunction(() => window.__playground.exported() !== undefined, undefined, { timeout: LONG });
        const exported = await hooks(page, () => window.__playground.exported());
        const json = JSON.parse(exported.json);
        const params = json.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
        check(`${label}: exports the model as model.json + weights.bin (${json.layers.length} layers, ${params} weights)`, json.format !== undefined && json.layers.length === 4 && exported.bytes === params * 4, exported.json.slice(0, 200));

        // points drawn and erased with the mouse
        await page.check('input[name="draw"][value="add1"]');
        await page.click("#heatmap", { position: { x: 30, y: 330 } });
        await page.click("#heatmap", { position: { x: 60, y: 330 } });
        const drawn = (await config(page)).edits;
        await page.check('input[name="draw"][value="erase"]');
        await page.click("#heatmap", { position: { x: 30, y: 330 } });
        const erased = (await config(page)).edits;
        // the keyboard: arrows move the map's cursor, Enter draws there
        await page.check('input[name="draw"][value="add0"]');
        await page.focus("#heatmap");
        for (let k = 0; k < 4; k++) await page.keyboard.press("ArrowRight");
        await page.keyboard.press("Shift+ArrowUp");
        await page.keyboard.press("Enter");
        const keyed = (await config(page)).edits.added.at(-1);
        check(`${label}: the keyboard draws on the map too (a point at (1, 1))`, keyed?.x === 1 && keyed?.y === 1 && keyed?.label === 0, JSON.stringify(keyed));
        await page.check('input[name="draw"][value="off"]');
        check(`${label}: points are drawn and erased with the mouse (in the configuration, so in the URL)`, drawn.added.length === 2 && drawn.added.every((p) => p.label === 1 && p.x < -3.5 && p.y < -4.5) && erased.added.length === 1 && /add=/.test(page.url()), JSON.stringify({ drawn, erased }));

        // regression trains too
        await page.check('input[name="dataset"][value="plane"]');
        await page.waitForFunction(() => window.__playground.config().dataset === "plane" && window.__playground.frame()?.steps === 0, undefined, { timeout: LONG });
        const reg0 = await frame(page);
        await trainTo(page, 500);
        const reg = await frame(page);
        check(`${label}: the regression data set trains (test MSE ${reg0.testLoss.toFixed(4)} → ${reg.testLoss.toFixed(4)})`, reg.testLoss < reg0.testLoss * 0.5, JSON.stringify(reg));

        // the other presets render (screenshots for the README and CI artifacts)
        await choosePreset(page, "sigmoid-deep");
        await trainTo(page, 300);
        const deep = await frame(page);
        const norms = deep.diagnostics.map((d) => d.gradNorm);
        check(`${label}: sigmoid × 10: gradient norms shrink toward the input (first ${norms[0].toExponential(1)}, last hidden ${norms[9].toExponential(1)})`, norms[0] < norms[9], JSON.stringify(norms));
        await page.screenshot({ path: join(shots, `${label}-sigmoid-deep.png`) });
        await choosePreset(page, "softmax-confidence");
        await trainTo(page, 300);
        await page.hover("#heatmap", { position: { x: 300, y: 60 } });
        const probe = await page.textContent("#probe");
        check(`${label}: softmax: the probability under the cursor is shown ("${probe}")`, /\d+ % confident/.test(probe ?? ""), String(probe));
        await page.screenshot({ path: join(shots, `${label}-softmax.png`) });
      }

      // speed (printed, never asserted)
      const q = (layers, data, act, opt, lr) => `?data=${data}&n=500&noise=0&train=0.5&layers=${encodeURIComponent(JSON.stringify(layers.map((u) => [u, act])))}&out=sigmoid&opt=${opt}&lr=${lr}&batch=10&l2=0&seed=1&threads=2`;
      for (const [name, query] of [["2-8-8-1 tanh, sgd, batch 10", q([8, 8], "xor", "tanh", "sgd", 0.03)], ["2-32-32-32-1 relu spirals, adam, batch 10", q([32, 32, 32], "spiral", "relu", "adam", 0.01)]]) {
        const s = await open(server, query);
        const m = await measure(s.page, 6000);
        speeds.push({ page: label, net: name, ...m });
        check(`${label}: ${name}: no console errors while training`, s.problems.length === 0, s.problems.join("; "));
        await s.page.close();
      }
      check(`${label}: no console errors, page errors or outside requests`, problems.length === 0, problems.join("; "));
      await page.close();
    } finally {
      server.httpServer.closeAllConnections?.();
      await server.close();
    }
  }
} catch (e) {
  check("e2e run", false, (e && e.stack) || String(e));
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}

console.log("\nspeed (measured, not asserted; samples/s = steps/s × batch):");
for (const s of speeds) {
  console.log(`  ${s.page.padEnd(8)} ${s.net.padEnd(42)} page ${s.fps.toFixed(0).padStart(3)} fps, ${s.stepsPerSecond.toFixed(0).padStart(5)} steps/s training (${(s.stepsPerSecond * s.batch / 1000).toFixed(1)}k samples/s), ${s.wallStepsPerSecond.toFixed(0).padStart(5)} steps/s with frames; per frame: heat map ${s.gridMs.toFixed(1)} ms, losses ${s.evaluateMs.toFixed(1)} ms, diagnostics ${s.diagnosticsMs.toFixed(1)} ms (medians)`);
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
