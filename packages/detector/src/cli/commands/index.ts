/** Every `kws` subcommand, in the order `kws --help` lists them. New commands register here. */
import type { Command } from '../command.ts';
import { mfccCommand } from './mfcc.ts';
import { synthCommand } from './synth.ts';

export const commands: readonly Command[] = [mfccCommand, synthCommand];
