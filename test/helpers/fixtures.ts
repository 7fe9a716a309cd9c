/** The shared fixtures live in dev/fixtures.ts, which the benchmarks import too. */
export * from '../../dev/fixtures.js';
