import { brandClass } from "../process-state.js";
import type { DataId } from "../backend/contract.js";
import { ShapeError, fmtShape } from "../errors.js";
import { input } from "../expr/expr.js";
import { contiguousView, onActiveBackend } from "../ops/kernel.js";
import { Storage } from "./storage.js";
import { sameShape } from "./shape.js";
import { Tensor } from "./tensor.js";

/**
 * A mutable tensor: a model's weights. Scopes never dispose variables; `assign` replaces the values in place
 * (the variable keeps its identity, so optimizers and saved references stay valid).
 */
export class Variable extends Tensor {
  /**
   * @param initial values to take over (the variable shares them; dispose `initial` freely afterwards).
   * @param name a name for messages and saved models.
   * @param trainable whether optimizers update it.
   */
  constructor(initial: Tensor, readonly name: string, public trainable = true) {
    // data on another backend moves to the active one (in place: `initial` stays valid)
    const t = onActiveBackend(initial, `Variable ${name}`);
    super(t.storage.retain(), t.shape, false);
  }

  /** Replaces the values with those of `value` (same shape). */
  assign(value: Tensor): void {
    this.assertAlive(`assign to ${this.name}`);
    if (!sameShape(value.shape, this.shape)) {
      throw new ShapeError(`assign to ${this.name}: value has shape ${fmtShape(value.shape)}, the variable ${fmtShape(this.shape)}`);
    }
    const v = onActiveBackend(value, `assign to ${this.name}`);
    this.swapStorage(v.storage.retain());
  }

  /** @internal storage the caller may overwrite in place (copied first if another tensor shares it). */
  exclusiveStorageId(): DataId {
    if (this.storage.refs > 1) {
      const b = this.backend;
      const id = b.alloc(this.size);
      const view = (d: DataId) => contiguousView(d, this.shape);
      b.elementwise({ program: input(0), inputs: [view(this.storage.id)], scalars: [], shape: this.shape, out: view(id) });
      this.swapStorage(new Storage(b, id, this.size));
    }
    return this.storage.id;
  }
}

brandClass(Variable, "Variable");
