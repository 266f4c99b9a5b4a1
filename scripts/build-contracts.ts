/**
 * Compile contracts/*.sol with solc-js and generate the `as const` ABI modules in contracts-abi/:
 * ours with bytecode, the external protocols' (Uniswap V3, Aave V3) from their npm artifacts.
 * `npm run build:contracts` writes them; test/unit/contracts-artifacts.test.ts recompiles in
 * memory and fails when the checked-in files differ. Settings are fixed: the output must be
 * byte-identical on every machine.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MORPHO_CONTRACTS, MORPHO_PACKAGE, MORPHO_SOLC_VERSION, compileMorphoAbis } from '../src/devnet/morpho-artifacts.js';

export const SOLC_VERSION = '0.8.37';
export const COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  // No metadata hash: comments and paths must not change the bytecode the devnet deploys.
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'], '': ['ast'] } },
} as const;

/** Protocol contracts the keeper talks to: output name -> artifact path under node_modules. */
export const EXTERNAL_ARTIFACTS: Readonly<Record<string, string>> = {
  UniswapV3Factory: '@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json',
  UniswapV3Pool: '@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json',
  NonfungiblePositionManager:
    '@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json',
  SwapRouter: '@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json',
  QuoterV2: '@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json',
  Pool: '@aave/core-v3/artifacts/contracts/protocol/pool/Pool.sol/Pool.json',
  PoolAddressesProvider:
    '@aave/core-v3/artifacts/contracts/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json',
  AaveOracle: '@aave/core-v3/artifacts/contracts/misc/AaveOracle.sol/AaveOracle.json',
  AaveProtocolDataProvider: '@aave/core-v3/artifacts/contracts/misc/AaveProtocolDataProvider.sol/AaveProtocolDataProvider.json',
  AToken: '@aave/core-v3/artifacts/contracts/protocol/tokenization/AToken.sol/AToken.json',
  VariableDebtToken: '@aave/core-v3/artifacts/contracts/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json',
};

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LINE_WIDTH = 100;

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  sources?: Record<string, { ast: AstNode }>;
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}
interface AstNode {
  nodeType: string;
  name?: string;
  contractKind?: string;
  abstract?: boolean;
  nodes?: AstNode[];
}
interface Solc {
  version(): string;
  compile(input: string): string;
}

export interface CompiledContract {
  name: string;
  sourcePath: string;
  abi: unknown[];
  bytecode: `0x${string}`;
}

/** `MockUSDC` -> `mockUsdc`, `WETH9` -> `weth9`, `AToken` -> `aToken`, `QuoterV2` -> `quoterV2`. */
export function camelName(name: string): string {
  const words = name.match(/[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+/g) ?? [name];
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
}

function loadSolc(): Solc {
  const solc = createRequire(import.meta.url)('solc') as Solc;
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`solc-js ${SOLC_VERSION} is required for a reproducible build, found ${version}`);
  }
  return solc;
}

/** Deployable contracts (not interfaces, libraries or abstract bases) declared in a source. */
function deployableNames(ast: AstNode): string[] {
  return (ast.nodes ?? [])
    .filter((n) => n.nodeType === 'ContractDefinition' && n.contractKind === 'contract' && !n.abstract)
    .map((n) => n.name ?? '');
}

/** Compile every contracts/*.sol; throws on a compiler error or warning. */
export function compileContracts(rootDir: string = DEFAULT_ROOT): CompiledContract[] {
  const dir = join(rootDir, 'contracts');
  const files = readdirSync(dir).filter((f) => f.endsWith('.sol')).sort();
  const sources: Record<string, { content: string }> = {};
  for (const file of files) sources[`contracts/${file}`] = { content: readFileSync(join(dir, file), 'utf8') };
  const input = { language: 'Solidity', sources, settings: COMPILER_SETTINGS };
  const output = JSON.parse(loadSolc().compile(JSON.stringify(input))) as SolcOutput;
  const problems = (output.errors ?? []).filter((e) => e.severity !== 'info');
  if (problems.length > 0) {
    throw new Error(`solc reported ${problems.length} problem(s):\n${problems.map((e) => e.formattedMessage).join('\n')}`);
  }
  const compiled: CompiledContract[] = [];
  for (const sourcePath of Object.keys(sources)) {
    const ast = output.sources?.[sourcePath]?.ast;
    if (!ast) throw new Error(`solc returned no AST for ${sourcePath}`);
    for (const name of deployableNames(ast)) {
      const out = output.contracts?.[sourcePath]?.[name];
      if (!out?.evm.bytecode.object) throw new Error(`solc returned no bytecode for ${sourcePath}:${name}`);
      if (compiled.some((c) => c.name === name)) throw new Error(`contract name ${name} is declared twice`);
      compiled.push({ name, sourcePath, abi: out.abi, bytecode: `0x${out.evm.bytecode.object}` });
    }
  }
  return compiled.sort((a, b) => a.name.localeCompare(b.name));
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** A TS literal of JSON data, prettier-like: inline when it fits in LINE_WIDTH, else expanded. */
export function toTsLiteral(value: unknown, indent = 0): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const pad = '  '.repeat(indent + 1);
  const inline = toInline(value);
  if (indent * 2 + inline.length <= LINE_WIDTH) return inline;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => `${pad}${toTsLiteral(v, indent + 1)},\n`).join('')}${'  '.repeat(indent)}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const body = entries.map(([k, v]) => `${pad}${IDENTIFIER.test(k) ? k : quote(k)}: ${toTsLiteral(v, indent + 1)},\n`);
  return `{\n${body.join('')}${'  '.repeat(indent)}}`;
}

function toInline(value: unknown): string {
  if (value === null || typeof value !== 'object') return toTsLiteral(value);
  if (Array.isArray(value)) return `[${value.map(toInline).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${IDENTIFIER.test(k) ? k : quote(k)}: ${toInline(v)}`).join(', ')} }`;
}

function header(from: string): string {
  return `// Generated by scripts/build-contracts.ts from ${from}. Do not edit: run \`npm run build:contracts\`.\n\n`;
}

function ownModule(c: CompiledContract): string {
  const id = camelName(c.name);
  return (
    header(`${c.sourcePath} (solc ${SOLC_VERSION}, optimizer 200 runs, evm cancun)`) +
    `export const ${id}Abi = ${toTsLiteral(c.abi)} as const;\n\n` +
    `export const ${id}Bytecode = '${c.bytecode}' as const;\n`
  );
}

function externalModule(name: string, artifactPath: string, rootDir: string): string {
  const file = join(rootDir, 'node_modules', artifactPath);
  const artifact = JSON.parse(readFileSync(file, 'utf8')) as { abi?: unknown[] };
  if (!Array.isArray(artifact.abi)) throw new Error(`${artifactPath} has no abi`);
  const pkg = artifactPath.split('/').slice(0, 2).join('/');
  const version = (JSON.parse(readFileSync(join(rootDir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  return header(`${pkg}@${version} ${artifactPath.slice(pkg.length + 1)}`) + `export const ${camelName(name)}Abi = ${toTsLiteral(artifact.abi)} as const;\n`;
}

function indexModule(names: string[], extra: string[] = []): string {
  const lines = [...names.map((n) => `export * from './${n}.js';`), ...extra];
  return header('the list of generated modules') + lines.join('\n') + '\n';
}

/** Every generated file: path relative to the root (posix separators) -> content. */
export async function buildArtifacts(rootDir: string = DEFAULT_ROOT): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const own = compileContracts(rootDir);
  for (const c of own) files.set(`contracts-abi/${c.name}.ts`, ownModule(c));
  const external = Object.keys(EXTERNAL_ARTIFACTS).sort();
  for (const name of external) {
    files.set(`contracts-abi/external/${name}.ts`, externalModule(name, EXTERNAL_ARTIFACTS[name] ?? '', rootDir));
  }
  // Morpho Blue ships Solidity only: its ABIs come from an ABI-only compile (src/devnet/morpho-artifacts.ts).
  const morpho = await compileMorphoAbis();
  for (const [name, abi] of Object.entries(morpho)) {
    const from = `${MORPHO_PACKAGE} ${MORPHO_CONTRACTS[name as keyof typeof MORPHO_CONTRACTS]} (solc ${MORPHO_SOLC_VERSION}, ABI only)`;
    files.set(`contracts-abi/external/${name}.ts`, header(from) + `export const ${camelName(name)}Abi = ${toTsLiteral(abi)} as const;\n`);
    external.push(name);
  }
  external.sort();
  files.set('contracts-abi/external/index.ts', indexModule(external));
  files.set('contracts-abi/index.ts', indexModule(own.map((c) => c.name), ["export * from './external/index.js';"]));
  return files;
}

/** Generated-looking .ts files on disk under contracts-abi/ (relative paths). */
export function listGeneratedFiles(rootDir: string = DEFAULT_ROOT): string[] {
  const out: string[] = [];
  for (const sub of ['contracts-abi', 'contracts-abi/external']) {
    const dir = join(rootDir, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.ts')) out.push(`${sub}/${f}`);
  }
  return out.sort();
}

/** Write the artifacts and delete generated files whose contract no longer exists. */
export async function writeArtifacts(rootDir: string = DEFAULT_ROOT): Promise<string[]> {
  const files = await buildArtifacts(rootDir);
  for (const stale of listGeneratedFiles(rootDir)) if (!files.has(stale)) rmSync(join(rootDir, stale));
  for (const [path, content] of files) {
    mkdirSync(dirname(join(rootDir, path)), { recursive: true });
    writeFileSync(join(rootDir, path), content);
  }
  return [...files.keys()];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const written = await writeArtifacts();
  for (const path of written) console.log(`wrote ${relative(process.cwd(), join(DEFAULT_ROOT, path))}`);
}
