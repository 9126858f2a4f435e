/**
 * `@neurite/testkit` as users get it: packed with `pnpm pack` (which rewrites `workspace:*` to versions). It
 * must install without any activation family or backend: its dependencies are the core and fast-check only,
 * and its built modules import nothing else.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
let unpacked: string;

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), "neurite-testkit-pack-"));
  const pack = spawnSync("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", out], { cwd: PACKAGE_DIR, encoding: "utf8", timeout: 120_000 });
  if (pack.status !== 0) throw new Error(`pnpm pack failed:\n${pack.stderr}\n${pack.stdout}`);
  const tarball = readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`pnpm pack wrote no tarball to ${out}: ${pack.stdout}`);
  const untar = spawnSync("tar", ["-xzf", join(out, tarball), "-C", out], { encoding: "utf8" });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  unpacked = join(out, "package");
}, 180_000);

afterAll(() => {
  if (unpacked) rmSync(join(unpacked, ".."), { recursive: true, force: true });
});

describe("the packed @neurite/testkit", () => {
  it("depends on the core and fast-check only, with versions instead of workspace:*", () => {
    const json = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    expect(Object.keys(json.dependencies ?? {}).sort()).toEqual(["@neurite/core", "fast-check"]);
    expect(json.peerDependencies).toBeUndefined();
    expect(JSON.stringify(json.dependencies)).not.toMatch(/workspace:/);
    // families and backends are for its own tests only, never installed with it
    expect(Object.keys(json.devDependencies ?? {}).every((d) => d.startsWith("@neurite/backend-"))).toBe(true);
  });

  it("its built modules import only node:, the core and fast-check", () => {
    for (const file of ["dist/index.js", "dist/index.cjs"]) {
      const text = readFileSync(join(unpacked, file), "utf8");
      const specifiers = [...text.matchAll(/(?:from\s+|require\(|import\()\s*["']([^"'.][^"']*)["']/g)].map((m) => m[1]!);
      expect(specifiers.length, file).toBeGreaterThan(0);
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^(node:|@neurite\/core$|fast-check$)/);
    }
  });
});
