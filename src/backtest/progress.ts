import cliProgress from 'cli-progress';

/**
 * Progress of a long backtest: a bar with an ETA (cli-progress) on stderr while both stdout and
 * stderr are terminals; quiet otherwise (pipes, CI logs, tests), so stdout stays the table.
 */

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  start(total: number): void;
  /** `done` of `total` steps over all policies. */
  update(done: number, total: number): void;
  stop(): void;
}

export const QUIET: Progress = { start() {}, update() {}, stop() {} };

export function createProgress(o: { stdout: ProgressStream; stderr: ProgressStream; label?: string }): Progress {
  if (o.stdout.isTTY !== true || o.stderr.isTTY !== true) return QUIET;
  const bar = new cliProgress.SingleBar(
    {
      stream: o.stderr as NodeJS.WritableStream,
      format: `${o.label ?? 'backtest'} [{bar}] {percentage}% | ETA {eta_formatted} | {value}/{total} steps`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0),
    update: (done, total) => {
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => bar.stop(),
  };
}
