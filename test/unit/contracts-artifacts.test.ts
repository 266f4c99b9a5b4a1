import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildArtifacts, camelName, listGeneratedFiles, toTsLiteral } from '../../scripts/build-contracts.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('generated contract artifacts', () => {
  // One in-memory compile serves every assertion (solc-js takes a couple of seconds).
  const built = buildArtifacts(ROOT);

  it('are up to date with contracts/*.sol and the npm artifacts (run `npm run build:contracts`)', async () => {
    const files = await built;
    expect([...files.keys()].sort()).toEqual(listGeneratedFiles(ROOT));
    for (const [path, content] of files) {
      expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale`).toBe(content);
    }
  });

  it('cover our four deployable contracts with bytecode and the external protocol ABIs', async () => {
    const files = await built;
    for (const name of ['MockUSDC', 'WETH9', 'PriceFeed', 'PerpExchange']) {
      const content = files.get(`contracts-abi/${name}.ts`) ?? '';
      expect(content).toMatch(new RegExp(`export const ${camelName(name)}Bytecode = '0x[0-9a-f]{200,}' as const;`));
    }
    for (const name of ['UniswapV3Pool', 'QuoterV2', 'Pool', 'AaveOracle', 'VariableDebtToken']) {
      expect(files.get(`contracts-abi/external/${name}.ts`)).toContain(`export const ${camelName(name)}Abi = [`);
    }
    expect(files.get('contracts-abi/PerpExchange.ts')).toContain("name: 'PriceWorseThanAcceptable'");
  });
});

describe('camelName', () => {
  it.each([
    ['MockUSDC', 'mockUsdc'],
    ['WETH9', 'weth9'],
    ['PerpExchange', 'perpExchange'],
    ['AToken', 'aToken'],
    ['QuoterV2', 'quoterV2'],
    ['UniswapV3Factory', 'uniswapV3Factory'],
    ['Pool', 'pool'],
  ])('%s -> %s', (name, expected) => {
    expect(camelName(name)).toBe(expected);
  });
});

describe('toTsLiteral', () => {
  it('inlines what fits, expands what does not, quotes only when needed', () => {
    expect(toTsLiteral({ a: 'x', 'b-c': [1, true, null] })).toBe("{ a: 'x', 'b-c': [1, true, null] }");
    expect(toTsLiteral("it's")).toBe("'it\\'s'");
    const long = { name: 'n'.repeat(120) };
    expect(toTsLiteral(long)).toBe(`{\n  name: '${'n'.repeat(120)}',\n}`);
  });
});
