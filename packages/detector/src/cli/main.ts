/**
 * `kws` entry point (bin/kws.js calls `main`). Dispatches to a subcommand and maps failures to exit codes:
 * 0 success, 2 bad input (unknown command or flag, unreadable or malformed file) with a one-line reason on
 * stderr, 1 anything unexpected.
 */
import { AudioFormatError } from '@kws/audio';
import { type CliIo, UsageError } from './command.ts';
import { commands } from './commands/index.ts';

const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: kws <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'kws <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Errors that mean the input was bad rather than the program. */
function isInputError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof AudioFormatError;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return 0;
  }
  if (name === undefined) {
    io.stderr(`kws: missing command; run 'kws --help' for the list\n`);
    return 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const known = commands.map((c) => c.name).join(', ');
    io.stderr(`kws: unknown command ${JSON.stringify(name)}; expected one of: ${known}\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isInputError(error)) {
      io.stderr(`kws ${name}: ${oneLine(error.message)}\n`);
      return 2;
    }
    // A bug, not bad input: keep the stack so it can be reported.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr(`kws ${name}: internal error: ${detail}\n`);
    return 1;
  }
}
