/**
 * Helpers for hostile-input tests: a call must fail with the right error class and a message that names
 * the problem and the fix, and leave every tensor count as it was.
 */
import { NeuriteError, memory } from "@neurite/core";
import { expect } from "vitest";

type ErrorClass = abstract new (...args: never[]) => NeuriteError;

function checkCaught(caught: unknown, kind: ErrorClass, messages: readonly (string | RegExp)[], what: string): void {
  expect(caught, `${what} must throw`).toBeInstanceOf(kind);
  expect(caught, `${what} must throw a NeuriteError`).toBeInstanceOf(NeuriteError);
  const message = (caught as Error).message;
  for (const m of messages) {
    if (typeof m === "string") expect(message, what).toContain(m);
    else expect(message, what).toMatch(m);
  }
}

/** Runs `run`, which must throw `kind` with every one of `messages`; the live tensor count must not change. */
export function expectRefused(run: () => unknown, kind: ErrorClass, messages: readonly (string | RegExp)[], what = "the call"): void {
  const before = memory().tensors;
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  checkCaught(caught, kind, messages, what);
  expect(memory().tensors, `${what} must not leak tensors`).toBe(before);
}

/** {@link expectRefused} for calls that return a promise (fit). */
export async function expectRefusedAsync(run: () => Promise<unknown>, kind: ErrorClass, messages: readonly (string | RegExp)[], what = "the call"): Promise<void> {
  const before = memory().tensors;
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  checkCaught(caught, kind, messages, what);
  expect(memory().tensors, `${what} must not leak tensors`).toBe(before);
}

/** An options object whose `key` getter throws, as a hostile caller could pass. */
export function throwingGetter(key: string): Record<string, unknown> {
  return Object.defineProperty({}, key, { enumerable: true, get: () => { throw new Error("getter exploded"); } });
}
