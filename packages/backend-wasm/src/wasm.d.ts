// tsup inlines the AssemblyScript build as base64 (loader: { ".wasm": "base64" })
declare module "*.wasm" {
  const base64: string;
  export default base64;
}
