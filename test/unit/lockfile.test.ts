import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` refuses a lock file that lacks any optional dependency of a locked package. Our
 * registry mirror answers 404 for anvil's macOS/Windows/arm binaries, so an `npm install` here
 * silently drops their entries and the next clean install (CI) fails. This catches it first.
 */
describe('package-lock.json', () => {
  it('locks every optional platform binary of @foundry-rs/anvil', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }> };
    const anvil = lock.packages['node_modules/@foundry-rs/anvil'];
    const optional = Object.keys(anvil?.optionalDependencies ?? {});
    expect(optional.length).toBeGreaterThanOrEqual(5);
    const missing = optional.filter((name) => !lock.packages[`node_modules/${name}`]);
    expect(missing, `re-add lock entries for ${missing.join(', ')} (see test/unit/lockfile.test.ts)`).toEqual([]);
  });
});
