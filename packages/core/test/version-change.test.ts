/**
 * The version rule of model loading (npm's caret rule): a change at or left of the recorded version's leftmost
 * non-zero component is breaking; one place to its right is a feature change; further right is a fix.
 * The expected values are written from that rule by hand.
 */
import { describe, expect, it } from "vitest";
import { isSemver, versionChange } from "../src/registry/registry.js";

describe("versionChange(recorded, registered)", () => {
  const cases: [string, string, ReturnType<typeof versionChange>][] = [
    ["1.0.0", "1.0.0", "same"],
    ["1.0.0", "1.0.0+build.7", "same"],
    ["1.0.0", "1.0.1", "patch"],
    ["1.2.3", "1.2.0", "patch"],
    ["1.0.0", "1.1.0", "minor"],
    ["1.9.0", "1.10.0", "minor"],
    ["1.3.0", "1.2.9", "minor"],
    ["1.0.0", "2.0.0", "major"],
    ["2.0.0", "1.9.9", "major"],
    // 0.x: the minor component is the breaking one, the patch the feature one
    ["0.1.0", "0.2.0", "major"],
    ["0.1.0", "0.1.3", "minor"],
    ["0.1.0", "1.0.0", "major"],
    // 0.0.x: every change is breaking
    ["0.0.3", "0.0.4", "major"],
    // pre-releases promise nothing; non-semver strings compare as strings
    ["1.0.0-beta.1", "1.0.0-beta.2", "major"],
    ["1.0.0-beta.1", "1.0.0", "major"],
    ["1.0.0", "1.1.0-rc.1", "major"],
    ["dev", "dev", "same"],
    ["dev", "1.0.0", "major"],
  ];
  it.each(cases)("%s → %s is %s", (recorded, registered, expected) => {
    expect(versionChange(recorded, registered)).toBe(expected);
  });

  it("recognises semver strings only", () => {
    for (const v of ["0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha.1", "1.0.0+sha.5"]) expect(isSemver(v), v).toBe(true);
    for (const v of ["1", "1.0", "01.0.0", "1.0.0.0", "v1.0.0", "", " 1.0.0", 1, null, "1.0.0-"]) expect(isSemver(v), String(v)).toBe(false);
  });
});
