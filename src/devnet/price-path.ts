/**
 * Price paths for the devnet's market driver, scenarios and tests: a seeded geometric Brownian
 * motion (optionally with Merton jumps), and scripted / ramp paths. Pure: no clock, no I/O.
 *
 * A path yields the prices *after* each step: the start price is where the market already is,
 * so the first `next()` is the first move. Floats are fine inside (this is a simulation, not a
 * settlement); every emitted price is a positive bigint with 8 decimals.
 */
import { createRng } from '../core/risk/random.js';

/** What the driver consumes: any iterator of priceE8 values (generators, array iterators). */
export type PricePath = Iterator<bigint, unknown, undefined>;

const SECONDS_PER_YEAR = 365 * 24 * 3600;

export interface JumpOptions {
  /** Expected number of jumps per year (Poisson intensity). */
  intensityPerYear: number;
  /** Mean jump size in percent (e.g. -5 for crashes on average). */
  meanPct: number;
  /** Standard deviation of the jump's log size, in percent. */
  stdPct: number;
}

export interface GbmOptions {
  seed: number;
  startPriceE8: bigint;
  /** Annualized volatility of log returns of the diffusion, e.g. 0.8 for 80%. */
  volAnnual: number;
  /** Annualized expected return (jumps are compensated so they do not change it). */
  driftAnnual: number;
  /** Market time one step represents, in seconds (the driver may run faster than real time). */
  stepSec: number;
  jumps?: JumpOptions;
}

/** Round a float price to a positive bigint: a path never reaches zero or below. */
function toPriceE8(price: number): bigint {
  if (!Number.isFinite(price)) throw new RangeError(`price path produced ${price}`);
  return price < 1 ? 1n : BigInt(Math.round(price));
}

/** Knuth's Poisson sampler: fine for the tiny means of one step (lambda * dt << 1). */
function poisson(uniform: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = uniform();
  while (p > limit) {
    k++;
    p *= uniform();
  }
  return k;
}

function validateGbm(o: GbmOptions): void {
  if (o.startPriceE8 <= 0n) throw new RangeError('startPriceE8 must be positive');
  if (!(o.volAnnual >= 0) || !(o.stepSec > 0) || !Number.isFinite(o.driftAnnual)) {
    throw new RangeError('volAnnual must be >= 0, stepSec > 0 and driftAnnual finite');
  }
  const j = o.jumps;
  if (j && (!(j.intensityPerYear >= 0) || !(j.stdPct >= 0) || !(j.meanPct > -100))) {
    throw new RangeError('jumps need intensityPerYear >= 0, stdPct >= 0 and meanPct > -100');
  }
}

/**
 * An endless GBM path: log S(t+dt) = log S(t) + (mu - sigma^2/2 - lambda*k) dt + sigma sqrt(dt) Z
 * + sum of N ~ Poisson(lambda dt) log-normal jumps, with k = E[jump factor] - 1 so that
 * E[S(t)] = S(0) e^(mu t) with or without jumps. The float state is kept unrounded, so
 * rounding to E8 never accumulates.
 */
export function createGbmPath(o: GbmOptions): Generator<bigint, never, undefined> {
  validateGbm(o); // here, not in the generator body, so bad options throw at the call
  return gbmSteps(o);
}

function* gbmSteps(o: GbmOptions): Generator<bigint, never, undefined> {
  const rng = createRng(o.seed);
  const dt = o.stepSec / SECONDS_PER_YEAR;
  const sigma = o.volAnnual;
  const jumpMeanLog = o.jumps ? Math.log(1 + o.jumps.meanPct / 100) : 0;
  const jumpStdLog = o.jumps ? o.jumps.stdPct / 100 : 0;
  const lambda = o.jumps?.intensityPerYear ?? 0;
  const k = lambda > 0 ? Math.exp(jumpMeanLog + (jumpStdLog * jumpStdLog) / 2) - 1 : 0;
  const driftPerStep = (o.driftAnnual - (sigma * sigma) / 2 - lambda * k) * dt;
  const diffusionPerStep = sigma * Math.sqrt(dt);
  let logPrice = Math.log(Number(o.startPriceE8)); // a price, not an amount: a float is fine here
  for (;;) {
    logPrice += driftPerStep + diffusionPerStep * rng.normal();
    const jumps = lambda > 0 ? poisson(rng.uniform, lambda * dt) : 0;
    for (let i = 0; i < jumps; i++) logPrice += jumpMeanLog + jumpStdLog * rng.normal();
    yield toPriceE8(Math.exp(logPrice));
  }
}

/** Exactly these prices, then done. */
export function scriptedPath(pricesE8: readonly bigint[]): Generator<bigint, void, undefined> {
  const bad = pricesE8.find((p) => p <= 0n);
  if (bad !== undefined) throw new RangeError(`scripted price ${bad} is not positive`);
  const copy = [...pricesE8];
  return (function* () {
    yield* copy;
  })();
}

export type RampShape = 'linear' | 'geometric';

/**
 * `steps` prices moving from `fromE8` (excluded: it is where the market is) to `toE8`
 * (the last price, exact). Geometric = the same percentage move every step.
 */
export function rampPath(fromE8: bigint, toE8: bigint, steps: number, shape: RampShape = 'linear'): Generator<bigint, void, undefined> {
  if (fromE8 <= 0n || toE8 <= 0n) throw new RangeError('ramp prices must be positive');
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError('ramp needs an integer number of steps >= 1');
  return rampSteps(fromE8, toE8, steps, shape);
}

function* rampSteps(fromE8: bigint, toE8: bigint, steps: number, shape: RampShape): Generator<bigint, void, undefined> {
  const ratio = Number(toE8) / Number(fromE8);
  for (let i = 1; i <= steps; i++) {
    if (i === steps) yield toE8;
    else if (shape === 'linear') yield fromE8 + ((toE8 - fromE8) * BigInt(i)) / BigInt(steps);
    else yield toPriceE8(Number(fromE8) * ratio ** (i / steps));
  }
}

/** One path after another (e.g. a ramp up, then a ramp down, then a random walk). */
export function* concatPaths(...paths: PricePath[]): Generator<bigint, void, undefined> {
  for (const path of paths) {
    for (let r = path.next(); !r.done; r = path.next()) yield r.value;
  }
}

/** The next `n` prices of a path (fewer if it ends first). */
export function takePrices(path: PricePath, n: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const r = path.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** One scripted leg: move to `toPct` percent from the script's start price in `steps` steps. */
export interface ScriptedLeg {
  toPct: number;
  steps: number;
}

/**
 * Scripted legs (geometric ramps to levels relative to the start price), then an endless seeded
 * GBM from where the script ends. The embedded demo uses it so that the adverse moves which need
 * a hedge and a top-up happen on every run, while the market after them is still a replayable
 * random walk (same seed, same prices).
 */
export function scriptThenGbm(legs: readonly ScriptedLeg[], gbm: GbmOptions): Generator<bigint, void, undefined> {
  validateGbm(gbm);
  const paths: PricePath[] = [];
  let fromE8 = gbm.startPriceE8;
  for (const leg of legs) {
    if (!(leg.toPct > -100) || !Number.isFinite(leg.toPct)) throw new RangeError(`scripted leg toPct ${leg.toPct} must be > -100`);
    // Basis points keep the level exact in bigint: +5% of 2000 is 2100, not 2099.99999.
    const toE8 = (gbm.startPriceE8 * BigInt(Math.round((100 + leg.toPct) * 100))) / 10_000n;
    paths.push(rampPath(fromE8, toE8, leg.steps, 'geometric'));
    fromE8 = toE8;
  }
  paths.push(createGbmPath({ ...gbm, startPriceE8: fromE8 }));
  return concatPaths(...paths);
}

/** One leg of a correlated pair: its own start, volatility and drift (annualized). */
export interface CorrelatedLeg {
  startPriceE8: bigint;
  volAnnual: number;
  driftAnnual: number;
}

export interface CorrelatedGbmOptions {
  seed: number;
  stepSec: number;
  /** Correlation of the two legs' log returns, in [-1, 1] (ETH/BTC hourly is about 0.8). */
  correlation: number;
  eth: CorrelatedLeg;
  btc: CorrelatedLeg;
}

/** Two paths that must be consumed in lockstep (the market driver's ETH and BTC feeds). */
export interface PairedPaths {
  eth: Generator<bigint, never, undefined>;
  btc: Generator<bigint, never, undefined>;
}

/**
 * Split one endless generator of pairs into two iterators. Either may run ahead of the other:
 * the pairs it pulled wait in the other's queue, so the two stay aligned step for step.
 */
function splitPairs(source: Iterator<readonly [bigint, bigint]>): PairedPaths {
  const queues: [bigint[], bigint[]] = [[], []];
  function* leg(i: 0 | 1): Generator<bigint, never, undefined> {
    for (;;) {
      if (queues[i].length === 0) {
        const r = source.next();
        if (r.done) throw new Error('paired price path ended');
        queues[0].push(r.value[0]);
        queues[1].push(r.value[1]);
      }
      yield queues[i].shift()!;
    }
  }
  return { eth: leg(0), btc: leg(1) };
}

/**
 * Seeded GBMs for ETH and BTC with correlated shocks: z_btc = rho z_eth + sqrt(1 - rho^2) z.
 * Same seed, same prices; each leg alone is the GBM of `createGbmPath` (without jumps).
 */
export function createCorrelatedGbmPaths(o: CorrelatedGbmOptions): PairedPaths {
  if (!(o.correlation >= -1 && o.correlation <= 1)) throw new RangeError('correlation must be in [-1, 1]');
  for (const leg of [o.eth, o.btc]) validateGbm({ ...leg, seed: o.seed, stepSec: o.stepSec });
  return splitPairs(correlatedSteps(o));
}

function* correlatedSteps(o: CorrelatedGbmOptions): Generator<readonly [bigint, bigint], never, undefined> {
  const rng = createRng(o.seed);
  const dt = o.stepSec / SECONDS_PER_YEAR;
  const legs = [o.eth, o.btc].map((l) => ({
    drift: (l.driftAnnual - (l.volAnnual * l.volAnnual) / 2) * dt,
    diffusion: l.volAnnual * Math.sqrt(dt),
    log: Math.log(Number(l.startPriceE8)), // a price, not an amount: a float is fine here
  }));
  const [eth, btc] = legs as [(typeof legs)[0], (typeof legs)[0]];
  const rest = Math.sqrt(1 - o.correlation * o.correlation);
  for (;;) {
    const z1 = rng.normal();
    const z2 = o.correlation * z1 + rest * rng.normal();
    eth.log += eth.drift + eth.diffusion * z1;
    btc.log += btc.drift + btc.diffusion * z2;
    yield [toPriceE8(Math.exp(eth.log)), toPriceE8(Math.exp(btc.log))] as const;
  }
}

/** How the devnet's proxy-hedged SOL follows ETH: `beta` × ETH's log move, plus its own noise. */
export interface FollowerOptions {
  /** Share of the leader's log return (the market driver's SOL: 0.9). */
  beta: number;
  /** Standard deviation of the follower's own move, as a fraction of the leader's absolute log return (0.3: ρ ≈ 0.95). */
  noise: number;
}

/**
 * The follower's next price when the leader moves from `leaderFromE8` to `leaderToE8`:
 * prev × exp(beta r + noise |r| z), r = ln(to / from), z a standard normal draw. Correlated with
 * the leader but not equal to it, and still when the leader is still (a test moving BTC alone
 * leaves SOL where it is).
 */
export function followerPriceE8(prevE8: bigint, leaderFromE8: bigint, leaderToE8: bigint, o: FollowerOptions, z: number): bigint {
  if (prevE8 <= 0n || leaderFromE8 <= 0n || leaderToE8 <= 0n) throw new RangeError('follower prices must be positive');
  const r = Math.log(Number(leaderToE8) / Number(leaderFromE8));
  return toPriceE8(Number(prevE8) * Math.exp(o.beta * r + o.noise * Math.abs(r) * z));
}
