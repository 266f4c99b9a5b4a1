import { parentPort, workerData } from 'node:worker_threads';
import { runEngine, type EngineInput } from './engine.js';

/**
 * Worker thread entry (run from its cached bundle, see bundle.ts): the policies it was given,
 * over the path it was given; progress messages every few thousand steps, then the result.
 */

if (!parentPort) throw new Error('backtest worker: not started as a worker thread');
const port = parentPort;
const out = runEngine(workerData as EngineInput, (policy, done, total) => port.postMessage({ type: 'progress', policy, done, total }));
port.postMessage({ type: 'done', out });
