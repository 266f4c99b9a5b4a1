/**
 * Risk models of the keeper: pure functions of price/return series and position sensitivities.
 * Statistics are float64 numbers (see normal.ts for why); band outputs are bigint wei.
 */
export * from './bands.js';
export * from './christoffersen.js';
export * from './correlation.js';
export * from './covariance.js';
export * from './delta-gamma.js';
export * from './ewma.js';
export * from './fhs.js';
export * from './garch.js';
export * from './kupiec.js';
export * from './minimize.js';
export * from './nelder-mead.js';
export * from './normal.js';
export * from './random.js';
export * from './returns.js';
export * from './sorted-window.js';
export * from './var.js';
export * from './var-backtest.js';
export * from './var-models.js';
export * from './var-validation.js';
