/** The pure core: no network, clock or filesystem. Time, prices and balances are inputs. */
export type * from './types.js';
export * from './format.js';
export * from './exposure.js';
export * from './margin.js';
export * from './policy.js';
export * from './assess.js';
export * from './plan.js';
export * from './guard.js';
