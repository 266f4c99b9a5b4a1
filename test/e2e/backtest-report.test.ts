import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../src/backtest/command.js';

/**
 * The HTML report in a real browser: headless Debian chromium loads backtest.html from disk
 * (no server, no network) and we check that its charts drew: the DOM after load (the report's
 * own bounding-box check) and the pixels of a screenshot in the policies' colours.
 * Install: apt-get install -y chromium. Without it the test is skipped locally, and fails in CI.
 */

const run = promisify(execFile);

function findChromium(): string | null {
  const fromEnv = process.env['CHROMIUM_PATH'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not on PATH
    }
  }
  return null;
}

const chromium = findChromium();
const ci = Boolean(process.env['CI']);
if (!chromium && !ci) {
  console.warn('backtest-report e2e skipped: chromium is not installed (apt-get install -y chromium); it runs in CI');
}

/** Flags for a root user on a machine without network (see the machine notes). */
function flags(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
}

/** RGB(A) pixels of an 8-bit non-interlaced PNG (what chromium writes). */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit non-interlaced PNGs');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`PNG colour type ${data[9]} not handled`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const cur = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter]!;
      pixels[y * stride + x] = (cur + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function countColour(img: ReturnType<typeof decodePng>, hex: string, tolerance = 40): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < img.pixels.length; i += img.channels) {
    if (Math.abs(img.pixels[i]! - r!) + Math.abs(img.pixels[i + 1]! - g!) + Math.abs(img.pixels[i + 2]! - b!) <= tolerance) n++;
  }
  return n;
}

describe.skipIf(!chromium && !ci)('backtest HTML report in headless chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backtest-report-'));
  let url = '';
  let html = '';
  const sink = { write: (): boolean => true };

  beforeAll(async () => {
    if (!chromium) throw new Error('CI: chromium is required for this test (apt-get install -y chromium)');
    // 300 hours of the shipped data in 3-day episodes, the 4 default policies and the 2 baselines: about a second.
    const code = await backtestCommand({ out: dir, from: 30_000, count: 300, scenario: { episodeDays: 3 }, stdout: sink, stderr: sink });
    expect(code).toBe(0);
    html = readFileSync(join(dir, 'backtest.html'), 'utf8');
    url = pathToFileURL(join(dir, 'backtest.html')).href;
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is self-contained: nothing to fetch', () => {
    expect(html).not.toMatch(/\s(src|href)=|url\(|@import|https:/i);
    expect(html).toContain('uPlot v1.6'); // the chart library is inlined, its licence line kept
    expect(JSON.parse(readFileSync(join(dir, 'backtest.json'), 'utf8')).policies).toHaveLength(6);
  });

  it('renders all eight uPlot charts with data (DOM after load)', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    try {
      const { stdout } = await run(chromium!, [...flags(profile), '--dump-dom', url], { timeout: 30_000, maxBuffer: 64 << 20 });
      // cost vs risk, episode distribution, price, cumulative P&L, drawdown, net delta, margin, cost.
      expect(stdout).toContain('data-charts-rendered="8"');
      expect(stdout.match(/data-rendered="yes"/g)).toHaveLength(8);
      expect(stdout.match(/<canvas/g)).toHaveLength(8);
      for (const id of ['metrics', 'attribution', 'episodes', 'per-year']) expect(stdout).toContain(`id="${id}"`);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 40_000);

  it('draws the policies in their colours (screenshot pixels)', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    const png = join(dir, 'shot.png');
    try {
      await run(chromium!, [...flags(profile), '--hide-scrollbars', '--window-size=1200,5200', `--screenshot=${png}`, url], { timeout: 30_000 });
      const img = decodePng(readFileSync(png));
      expect(img.width).toBe(1200);
      // time-1h (#1f77b4), ww (#2ca02c) and default (#d62728) lines and markers: hundreds of pixels each.
      expect(countColour(img, '#1f77b4')).toBeGreaterThan(300);
      expect(countColour(img, '#d62728')).toBeGreaterThan(300);
      expect(countColour(img, '#2ca02c')).toBeGreaterThan(300);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  }, 40_000);
});
