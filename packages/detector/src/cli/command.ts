/** The shape of a `kws` subcommand and the errors that mean "bad input" (exit code 2, DESIGN §4). */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a command writes; the real process streams in the bin, buffers in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface Command {
  name: string;
  /** One line for `kws --help`. */
  summary: string;
  /** Full help for `kws <name> --help`. */
  usage: string;
  /** Resolves to the exit code. Throw `UsageError` (or a domain input error) for bad input. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Bad command-line input: unknown flag, missing argument, unreadable file. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` in strict mode, with its errors turned into `UsageError`s and `--help` added. */
export function parseCommandArgs<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((error as Error).message);
    throw error;
  }
}
