export { profile } from "./profile.js";
export { profileFromEnv } from "./env.js";
export type { KernelCall, ProfileReport, ProfileRow } from "./report.js";
