/** The pure, venue-agnostic portfolio core: delta vector, assessment, allocation, plan, guard. */
export * from './exposure.js';
export * from './assess.js';
export * from './allocate.js';
export * from './plan.js';
export * from './guard.js';
