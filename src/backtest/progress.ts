/**
 * Progress of a long backtest on stderr: a redrawn bar on a terminal, plain lines otherwise
 * (CI logs, pipes), at most one per `lineEverySec` and at each 25%.
 */

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** `done` of `total` units of the current phase. */
  update(done: number): void;
  /** Start a new phase (a policy) with its own total. */
  phase(label: string, total: number): void;
  finish(): void;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /** Minimum interval between redraws on a terminal, ms. Default 100. */
  redrawMs?: number;
  /** Minimum interval between plain lines, seconds. Default 5. */
  lineEverySec?: number;
}

export function renderBar(label: string, done: number, total: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(frac * width);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total}`;
}

export function createProgress(o: ProgressOptions): Progress {
  const now = o.now ?? (() => Date.now());
  const tty = o.stream.isTTY === true;
  const redrawMs = o.redrawMs ?? 100;
  const lineMs = (o.lineEverySec ?? 5) * 1000;
  let label = '';
  let total = 0;
  let last = -Infinity;
  let lastQuarter = -1;
  let drawn = false;

  const draw = (done: number, force: boolean): void => {
    const t = now();
    if (tty) {
      if (!force && t - last < redrawMs) return;
      o.stream.write(`\r${renderBar(label, done, total)}`);
      drawn = true;
    } else {
      const quarter = total > 0 ? Math.floor((4 * done) / total) : 4;
      if (!force && quarter === lastQuarter && t - last < lineMs) return;
      lastQuarter = quarter;
      o.stream.write(`${label}: ${done}/${total} (${total > 0 ? ((100 * done) / total).toFixed(0) : 100}%)\n`);
    }
    last = t;
  };

  return {
    phase(l, t) {
      if (tty && drawn) o.stream.write('\n');
      label = l;
      total = t;
      last = -Infinity;
      lastQuarter = -1;
      draw(0, true);
    },
    update(done) {
      draw(done, done >= total);
    },
    finish() {
      if (tty && drawn) o.stream.write('\n');
      drawn = false;
    },
  };
}
