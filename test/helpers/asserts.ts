import type { TAP } from 'tap';

/** The few tap assertions shared helpers need, so they work with any (sub)test object. */
export type Asserts = Pick<TAP, 'ok' | 'equal' | 'match' | 'same'>;
