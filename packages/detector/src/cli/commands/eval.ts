/**
 * `kws eval --model M.kws --positives DIR --negatives DIR [--plot det.svg] [--json]` (DESIGN §4): FRR on
 * keyword clips, false accepts per hour on non-keyword audio (long streams are read in pieces) and the DET
 * curve (eval/evaluate.ts).
 */
import { basename } from 'node:path';
import { TARGET_SAMPLE_RATE } from '@kws/audio';
import { type EvalReport, evaluateModel, FA_BUDGET_PER_HOUR } from '../../eval/evaluate.ts';
import { EvalInputError } from '../../eval/files.ts';
import { detSvg } from '../../eval/plot.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { BASE_MODEL_PATH } from '../../model/base-model.ts';
import { type DetectorModel, saveDetectorModel } from '../../model/model-file.ts';
import { type CliIo, type Command, parseCommandArgs, UsageError } from '../command.ts';
import { numberOption, readModelArg } from './inputs.ts';

const usage = `Usage: kws eval [--model M.kws] --positives DIR --negatives DIR [--plot det.svg] [--json] [--threshold P]
                [--calibrate OUT.kws [--fa-target F]] [--record-metrics OUT.kws]

Measures a detector: the false-reject rate on the keyword clips under --positives and the false accepts per
hour on the audio under --negatives (WAV files of any length, searched recursively; a 'kws synth' directory's
manifest.json decides which files are which, so one dataset can serve as both), at the model's threshold and
over all thresholds (the DET curve). Quality claims need ≥ 2 h of negatives and ≥ 100 positives per voice.

Options:
  --model FILE      detector model (default: the committed base model, ${BASE_MODEL_PATH})
  --positives DIR   keyword clips (required)
  --negatives DIR   non-keyword audio (required)
  --threshold P     report FRR and FA/h at P instead of the model's threshold
  --plot FILE       write the DET curve as SVG
  --calibrate OUT   write the model with its threshold set from this DET curve: the lowest threshold with at
                    most --fa-target false accepts per hour (or, when none has, the lowest with the fewest);
                    the report is then at that threshold. Calibrate on training-voice validation material,
                    never on the held-out evaluation set
  --fa-target F     false accepts per hour --calibrate aims for (default ${FA_BUDGET_PER_HOUR})
  --record-metrics OUT
                    write the model with this evaluation stored as its header's metrics (FRR and FA/h at its
                    threshold, what they were measured on)
  --json            print the full report (DET points included) as JSON
  -h, --help        show this help`;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function writeModel(path: string, model: DetectorModel): Promise<void> {
  await writeFileAtomic(path, saveDetectorModel(model));
}

function text(r: EvalReport, model: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${model} at threshold ${r.threshold.toFixed(2)}: FRR ${pct(r.frr)} on ${r.positives} positives, ` +
      `${r.fa_per_hour.toFixed(2)} FA/h on ${r.negative_hours.toFixed(2)} h of negatives (${r.negative_files} file(s))`,
    r.at_fa_budget
      ? `at ≤ ${FA_BUDGET_PER_HOUR} FA/h: threshold ${r.at_fa_budget.threshold.toFixed(2)}, FRR ${pct(r.at_fa_budget.frr)} (FA/h ${r.at_fa_budget.fa_per_hour.toFixed(2)})`
      : `no threshold reaches ≤ ${FA_BUDGET_PER_HOUR} FA/h`,
  ];
  for (const [voice, v] of Object.entries(r.per_voice)) {
    lines.push(`  ${voice}: FRR ${pct(v.frr)} on ${v.positives}`);
  }
  lines.push(`processed at ${r.real_time_factor.toFixed(0)}× real time`);
  return `${lines.join('\n')}\n`;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'measure FRR, false accepts per hour and the DET curve',
  usage,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, {
      model: { type: 'string' },
      positives: { type: 'string' },
      negatives: { type: 'string' },
      threshold: { type: 'string' },
      plot: { type: 'string' },
      json: { type: 'boolean' },
      calibrate: { type: 'string' },
      'fa-target': { type: 'string' },
      'record-metrics': { type: 'string' },
    });
    if (values.help) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (!values.positives?.trim()) throw new UsageError('--positives DIR is required');
    if (!values.negatives?.trim()) throw new UsageError('--negatives DIR is required');
    const threshold = numberOption('threshold', values.threshold, undefined, 0, 1);
    if (threshold === 1) throw new UsageError('--threshold must be below 1');
    if (values.calibrate !== undefined && threshold !== undefined) {
      throw new UsageError('--calibrate chooses the threshold; it cannot be combined with --threshold');
    }
    const faTarget = numberOption(
      'fa-target',
      values['fa-target'],
      FA_BUDGET_PER_HOUR,
      0,
      1e6,
      true,
    ) as number;
    const { model } = await readModelArg(values.model);
    if (model.header.feature_config.sample_rate !== TARGET_SAMPLE_RATE) {
      throw new UsageError(
        `the model wants ${model.header.feature_config.sample_rate} Hz features; kws eval feeds it ${TARGET_SAMPLE_RATE} Hz`,
      );
    }
    let report: EvalReport;
    try {
      report = await evaluateModel({
        model,
        positivesDir: values.positives,
        negativesDir: values.negatives,
        threshold,
        calibrateFaPerHour: values.calibrate === undefined ? undefined : faTarget,
        onProgress: (stage, done, total) => {
          if (done === total || done % 100 === 0) io.stderr(`kws eval: ${stage} ${done}/${total}\n`);
        },
      });
    } catch (error) {
      if (error instanceof EvalInputError) throw new UsageError(error.message);
      throw error;
    }
    if (values.calibrate !== undefined) {
      model.header = { ...model.header, threshold: report.threshold };
      await writeModel(values.calibrate, model);
    }
    if (values['record-metrics'] !== undefined) {
      model.header = {
        ...model.header,
        metrics: {
          frr: round(report.frr, 4),
          fa_per_hour: round(report.fa_per_hour, 3),
          eval: {
            positives: report.positives,
            negative_hours: round(report.negative_hours, 3),
            per_voice_frr: Object.fromEntries(
              Object.entries(report.per_voice).map(([voice, v]) => [voice, round(v.frr, 4)]),
            ),
            at_fa_budget: report.at_fa_budget,
            positives_dir: values.positives,
            negatives_dir: values.negatives,
          },
        },
      };
      await writeModel(values['record-metrics'], model);
    }
    if (values.plot !== undefined) {
      const svg = detSvg([
        {
          label: values.model === undefined ? 'base' : basename(values.model),
          points: report.det,
          threshold: report.threshold,
        },
      ]);
      await writeFileAtomic(values.plot, new TextEncoder().encode(svg));
    }
    if (values.json) {
      const json = {
        ...report,
        det: report.det.map((p) => ({ ...p, frr: round(p.frr, 4), fa_per_hour: round(p.fa_per_hour, 3) })),
      };
      io.stdout(`${JSON.stringify(json)}\n`);
    } else io.stdout(text(report, values.model ?? 'base model'));
    return 0;
  },
};
