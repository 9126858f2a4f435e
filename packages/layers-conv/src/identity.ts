// Filled from package.json at build time (tsup and vitest `define`), so saved models record the released version.
declare const __NEURITE_LAYERS_CONV_VERSION__: string;

/** This package's name, recorded in saved models as the plugins' origin. */
export const PACKAGE = "@neurite/layers-conv";
/** This package's version, from its package.json. */
export const VERSION: string = __NEURITE_LAYERS_CONV_VERSION__;
