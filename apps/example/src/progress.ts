import cliProgress from "cli-progress";
import { type Callback, progressCallback } from "@neurite/core";

/** What one training run reports to the person watching. */
export interface RunProgress {
  /** Drives the bar from `fit`: pass it in `callbacks`. */
  readonly callback: Callback;
  /** Ends the run: removes the bar and prints one result line. */
  finish(result: string): void;
}

/**
 * Progress bars for training runs. On a terminal each run gets an animated cli-progress bar (epoch, loss);
 * when the output is a pipe or a file (CI, tests) nothing animates, but every run still prints its line.
 */
export class ProgressReporter {
  private readonly animate: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stdout,
    animate?: boolean,
  ) {
    this.animate = animate ?? stream.isTTY === true;
  }

  /** Writes a line (progress bars never interleave with it: a run's bar is gone before its line is printed). */
  line(text = ""): void {
    this.stream.write(`${text}\n`);
  }

  /** Starts a run of `epochs` epochs of `batches` batches each. */
  start(label: string, epochs: number, batches: number): RunProgress {
    const width = 26;
    const name = label.length > width ? `${label.slice(0, width - 1)}…` : label.padEnd(width);
    if (!this.animate) {
      return { callback: {}, finish: (result) => this.line(`  ${name} ${result}`) };
    }
    const bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `  ${name} {bar} {percentage}% | epoch {epoch}/{epochs} | loss {loss}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        // training blocks the event loop between batches, so redraw from update() rather than from a timer
        synchronousUpdate: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(epochs * batches, 0, { epoch: 0, epochs, loss: "…" });
    const callback = progressCallback(
      (p) => {
        const loss = p.logs.loss;
        bar.update(p.epoch * p.batches + p.batch + 1, { epoch: p.epoch + 1, epochs, loss: loss === undefined ? "…" : loss.toFixed(4) });
      },
      { epochs, batches },
    );
    return {
      callback,
      finish: (result) => {
        bar.stop();
        this.line(`  ${name} ${result}`);
      },
    };
  }
}
