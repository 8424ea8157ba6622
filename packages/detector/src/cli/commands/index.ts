/** Every `kws` subcommand, in the order `kws --help` lists them. New commands register here. */
import type { Command } from '../command.ts';
import { detectCommand } from './detect.ts';
import { evalCommand } from './eval.ts';
import { exportCommand } from './export.ts';
import { mfccCommand } from './mfcc.ts';
import { mineCommand } from './mine.ts';
import { personalizeCommand } from './personalize.ts';
import { synthCommand } from './synth.ts';
import { trainBaseCommand } from './train-base.ts';

export const commands: readonly Command[] = [
  mfccCommand,
  synthCommand,
  trainBaseCommand,
  mineCommand,
  personalizeCommand,
  detectCommand,
  evalCommand,
  exportCommand,
];
