/**
 * Every error Neurite throws is a {@link NeuriteError}; the subclasses say what kind of mistake it was.
 * Messages name the problem, the offending value and the fix.
 */
export class NeuriteError extends Error {
  override name = "NeuriteError";
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

/** Throws an {@link ArgumentError} naming `what`, the value and the expectation. */
export function invalidArgument(what: string, value: unknown, expected: string): never {
  throw new ArgumentError(`${what} must be ${expected}, got ${fmtValue(value)}`);
}
