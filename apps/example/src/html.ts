/** Escapes text for HTML. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** An HTML table; cells are escaped text. */
export function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[], numericFrom = 1): string {
  const cell = (tag: string, v: string, i: number) => `<${tag}${i >= numericFrom ? ' class="num"' : ""}>${esc(v)}</${tag}>`;
  return [
    "<table>",
    `<thead><tr>${headers.map((h, i) => cell("th", h, i)).join("")}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((v, i) => cell("td", v, i)).join("")}</tr>`).join("\n")}</tbody>`,
    "</table>",
  ].join("\n");
}

/** A plain-text table for the terminal, columns padded (numbers right-aligned). */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[], numericFrom = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i >= numericFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** 0.9731 → "97.3 %". */
export const pct = (v: number, digits = 1): string => `${(100 * v).toFixed(digits)} %`;

/** Numbers for people: fixed for ordinary magnitudes, exponent form for tiny or huge ones. */
export function num(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(2) : v.toFixed(digits);
}
