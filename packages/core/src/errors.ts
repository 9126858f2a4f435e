import { brandClass, brandInstance } from "./process-state.js";

/**
 * Every error Neurite throws is a {@link NeuriteError}; the subclasses say what kind of mistake it was.
 * Messages name the problem, the offending value and the fix.
 */
export class NeuriteError extends Error {
  override name = "NeuriteError";

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    // so that `instanceof` holds for an error thrown by another copy of the core (ESM and CJS in one app)
    brandInstance(this, new.target);
  }
}

/** Tensor shapes that do not fit together; the message names the op and every shape involved. */
export class ShapeError extends NeuriteError {
  override name = "ShapeError";
}

/** An argument with an invalid value; the message names the argument, the value and what was expected. */
export class ArgumentError extends NeuriteError {
  override name = "ArgumentError";
}

/** A plugin lookup or registration problem: unknown name, duplicate name, missing backend. */
export class RegistryError extends NeuriteError {
  override name = "RegistryError";
}

/** A saved model that cannot be read: corrupt, truncated or inconsistent. */
export class SerializationError extends NeuriteError {
  override name = "SerializationError";
}

/**
 * A request for more memory than a backend can give: a tensor larger than its buffers can be, or more than
 * its memory has left. Thrown before anything is allocated or written, so every other tensor and every
 * memory counter stays as it was.
 */
export class OutOfMemoryError extends NeuriteError {
  override name = "OutOfMemoryError";

  /**
   * @param message what was asked, the limit and the fix
   * @param requestedBytes the bytes the failed request asked for
   * @param limitBytes the limit it ran into (the message says which limit that is)
   * @param backend the backend that refused it ("cpu", "wasm", …)
   */
  constructor(
    message: string,
    readonly requestedBytes: number,
    readonly limitBytes: number,
    readonly backend: string,
  ) {
    super(message);
  }
}

brandClass(NeuriteError, "NeuriteError");
brandClass(ShapeError, "ShapeError");
brandClass(ArgumentError, "ArgumentError");
brandClass(RegistryError, "RegistryError");
brandClass(SerializationError, "SerializationError");
brandClass(OutOfMemoryError, "OutOfMemoryError");

/** Formats a shape as `[2, 3]` for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Formats any value for messages: strings quoted, objects as JSON. */
export function fmtValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === undefined || value === null) return String(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

