import { expect, test } from "vitest";
import { ones, use, setBackend, memory } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
use(cpuBackend);
await setBackend("cpu");
test("using", () => {
  const before = memory().tensors;
  let t;
  {
    using u = ones([2]);
    t = u;
    expect(memory().tensors).toBe(before + 1);
  }
  expect(t.isDisposed).toBe(true);
});
