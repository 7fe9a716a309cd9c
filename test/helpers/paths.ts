/** Where things are, with no side effect on import (dev/paths.ts, which the benchmarks import too). */
export * from '../../dev/paths.js';
