/**
 * `@neurite/test-support` (private): what the tests of every package share, so that no test file keeps its own
 * copy. It depends on nothing, so any package, the backends included, can take it as a dev dependency
 * without a cycle in the package graph.
 *
 * - {@link TestRng}: the seeded generator of test inputs (mulberry32), independent of core's `Random`.
 * - {@link erfRef}, {@link sigmoidRef}: float64 references independent of core's erf and sigmoid.
 *
 * ```ts
 * import { TestRng, erfRef } from "@neurite/test-support";
 * const xs = new TestRng(7).values(100, -3, 3);
 * const expected = xs.map((x) => erfRef(x));
 * ```
 * @packageDocumentation
 */
export { TestRng } from "./test-rng.js";
export { erfRef, sigmoidRef } from "./references.js";
