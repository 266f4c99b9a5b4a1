#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (no build step to forget). `keeper backtest` instead runs
// from a cached plain-JS bundle (src/backtest/launch.mjs): it starts in a fraction of the time.
import { register } from 'tsx/esm/api';

const args = process.argv.slice(2);
let i = 0;
while (i < args.length && args[i].startsWith('-')) i += args[i] === '--env-file' ? 2 : 1;
if (args[i] === 'backtest') {
  const { runBacktestCli } = await import('../src/backtest/launch.mjs');
  await runBacktestCli();
} else {
  register();
  await import('../src/cli.ts');
}
