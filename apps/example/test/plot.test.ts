import { describe, expect, it } from "vitest";
import { boundaryChart, lineChart } from "../src/plot/charts.js";
import { renderSvg, svgToPng } from "../src/plot/render.js";
import { stableSoftmax } from "../src/parts/softmax.js";
import { esc, num, textTable } from "../src/html.js";

describe("figures", () => {
  it("renders a Vega-Lite spec to SVG in Node, with the data drawn", async () => {
    const svg = await renderSvg(lineChart([{ series: "relu", x: 1, y: 0.5 }, { series: "relu", x: 2, y: 0.25 }, { series: "elu", x: 1, y: 0.6 }], { title: "Loss", xTitle: "epoch", yTitle: "loss" }));
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain("Loss");
    expect(svg).toContain(">relu<");
    expect(svg).toContain(">elu<");
    // one line per series, each labelled with its data
    const lines = svg.match(/<path aria-label="[^"]*" role="graphics-symbol" aria-roledescription="line mark"/g) ?? [];
    expect(lines).toHaveLength(2);
    expect(svg).toContain('aria-label="epoch: 1; loss: 0.5; series: relu"');
  });

  it("rasterises SVG to PNG at twice its size", async () => {
    const svg = await renderSvg(boundaryChart({ cells: [{ x0: -1, y0: -1, x1: 1, y1: 1, p: 0.7 }], points: [{ x: 0, y: 0, label: "arm A" }], extent: [-1, 1] }, "Boundary"));
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const png = svgToPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(2 * width);
  });
});

describe("softmax by hand", () => {
  it("equals e^xᵢ/Σe^xⱼ, sums to 1, and stays finite for huge logits", () => {
    const z = [2, 1, -0.5];
    const e = z.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    stableSoftmax(z).forEach((p, i) => expect(p).toBeCloseTo(e[i]! / s, 15));
    const big = stableSoftmax([1000, 1001, 1002]);
    expect(big.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    expect(big[2]).toBeCloseTo(1 / (1 + Math.exp(-1) + Math.exp(-2)), 15);
  });
});

describe("text helpers", () => {
  it("escapes HTML and formats numbers and tables", () => {
    expect(esc(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    expect(num(0.00001234)).toBe("1.23e-5");
    expect(num(12.3456, 2)).toBe("12.35");
    expect(textTable(["a", "n"], [["x", "1"], ["yy", "10"]]).split("\n")).toEqual(["a    n", "──  ──", "x    1", "yy  10"]);
  });
});
