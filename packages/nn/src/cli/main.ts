/**
 * `kws-nn`, the command line of packages/nn (DESIGN §2):
 *   kws-nn run SPEC.json   the conformance runner: prints { "output", "dInput", "dWeights" } as JSON
 *   kws-nn bench [--json]  times the reference model
 * Exit codes: 0 success, 2 bad usage or a malformed spec (one line on stderr naming what is wrong), 1 any
 * other failure.
 */
import { readFile } from 'node:fs/promises';
import { LayerConfigError } from '../layers/registry.ts';
import { runSpec } from '../model/sequential.ts';
import { ShapeError } from '../tensor.ts';
import { parseRunSpec, SpecError, tensorToJSON } from './spec.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

const USAGE = `usage: kws-nn run SPEC.json     run a layer stack forward and backward, print output and gradients as JSON
       kws-nn bench [--json]    time the reference model (last line: {"backend","trainStepMs","inferMs"})`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'bench': {
      const { benchCommand } = await import('./bench.ts');
      return benchCommand(rest);
    }
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    default:
      fail(command === undefined ? 'missing command' : `unknown command "${command}"`);
      process.stderr.write(`${USAGE}\n`);
      return EXIT_BAD_INPUT;
  }
}

async function runCommand(args: string[]): Promise<number> {
  if (args.length !== 1) {
    fail(`run takes one argument, the spec file; received ${args.length}`);
    process.stderr.write(`${USAGE}\n`);
    return EXIT_BAD_INPUT;
  }
  const [path] = args;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    fail(`cannot read spec ${path}: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`spec ${path} is not valid JSON: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  let out: string;
  try {
    const result = runSpec(parseRunSpec(json));
    out = JSON.stringify({
      output: tensorToJSON(result.output),
      dInput: tensorToJSON(result.dInput),
      dWeights: result.dWeights.map(tensorToJSON),
    });
  } catch (e) {
    if (e instanceof SpecError || e instanceof LayerConfigError || e instanceof ShapeError) {
      fail(`malformed spec ${path}: ${e.message}`);
      return EXIT_BAD_INPUT;
    }
    fail(`run failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT_FAILURE;
  }
  process.stdout.write(`${out}\n`);
  return EXIT_OK;
}

/** One line on stderr: `kws-nn: <message>`. */
function fail(message: string): void {
  process.stderr.write(`kws-nn: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
}
