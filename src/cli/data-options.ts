/**
 * The dataset options every command that reads data takes (train, train --finetune-poly, eval, info, tune, study,
 * compile): MNIST by default, or your own data from an image folder (--data), IDX files (--idx) or a CSV file
 * (--csv), split into train / validation / test parts the same seeded, stratified way MNIST is.
 */
import { Command, Option } from 'commander';
import { InputError } from '../errors.js';
import {
  BUILT_IN_DATASETS,
  type DataPart,
  DATA_PARTS,
  type DataSource,
  type DataSpec,
  DEFAULT_SPLIT_OPTIONS,
  isBuiltIn,
  loadDataPart,
} from '../nn/data-source.js';
import { FASHION_MNIST_DEBIAN_DIR } from '../nn/fashion-mnist.js';
import type { Dataset } from '../nn/dataset.js';
import type { Shape } from '../nn/model.js';
import { intOption, numberOption } from './common.js';

/** The flags {@link addDataOptions} adds. */
export interface DataFlags {
  /** A built-in dataset (mnist, fashion-mnist, fashion-mnist-full). */
  dataset?: string;
  /** Where fashion-mnist-full's IDX files are. */
  datasetDir?: string;
  data?: string;
  idx?: string[];
  csv?: string;
  csvScale?: number;
  validationFraction?: number;
  testFraction?: number;
  splitSeed?: number;
}

/** How a command picks one part with --split (commands that use several parts at once have no --split). */
export interface SplitFlagSpec {
  /** The part used when --split is not given. */
  default: DataPart;
  /** What the part is used for, e.g. 'the accuracy is measured on'. */
  use: string;
  /** The parts the command accepts. @default all four */
  choices?: readonly DataPart[];
}

const D = DEFAULT_SPLIT_OPTIONS;

/** Add the dataset options (and --split when the command picks one part). */
export function addDataOptions(cmd: Command, split?: SplitFlagSpec): Command {
  if (split) {
    cmd.addOption(
      new Option('--split <part>', `part of the data ${split.use}`).choices([...(split.choices ?? DATA_PARTS)]).default(split.default),
    );
  }
  return cmd
    .addOption(
      new Option(
        '--dataset <name>',
        'a built-in dataset with a fixed split: mnist (default), fashion-mnist (the 10,000 vendored Fashion-MNIST test images, split like mnist), fashion-mnist-full (the official 60,000 + 10,000; see --dataset-dir)',
      ).choices([...BUILT_IN_DATASETS]),
    )
    .option(
      '--dataset-dir <dir>',
      `fashion-mnist-full: the folder of its four IDX files (default ${FASHION_MNIST_DEBIAN_DIR}, Debian's dataset-fashion-mnist)`,
    )
    .option('--data <dir>', 'your own data: a folder of PNG images <dir>/<label>/*.png (label = class index 0, 1, …)')
    .option('--idx <files...>', 'your own data: IDX images and labels files (gzip ok)')
    .option('--csv <file>', 'your own data: a CSV file (label first, then the input values; header line optional)')
    .option('--csv-scale <x>', 'multiply CSV input values by this (e.g. 0.00392156862745098 = 1/255)', numberOption('--csv-scale'))
    .option(
      '--validation-fraction <f>',
      `your own data: fraction held out for validation (default ${D.validationFraction})`,
      numberOption('--validation-fraction', 1e-9, 0.99),
    )
    .option(
      '--test-fraction <f>',
      `your own data: fraction held out for testing, 0 = none (default ${D.testFraction})`,
      numberOption('--test-fraction', 0, 0.99),
    )
    .option('--split-seed <n>', `your own data: seed of the split (default ${D.seed})`, intOption('--split-seed', 0, 2 ** 31 - 1));
}

/** Each data option's flag, by its key in DataFlags (one table for handing options to another command). */
const DATA_FLAG_NAMES: { readonly [K in keyof DataFlags]-?: string } = {
  dataset: '--dataset',
  datasetDir: '--dataset-dir',
  data: '--data',
  idx: '--idx',
  csv: '--csv',
  csvScale: '--csv-scale',
  validationFraction: '--validation-fraction',
  testFraction: '--test-fraction',
  splitSeed: '--split-seed',
};
const DATA_FLAG_KEYS = Object.keys(DATA_FLAG_NAMES) as (keyof DataFlags)[];

/** Only the data options of a command's flags (to hand them to another command). */
export function dataFlagsOf(flags: DataFlags): DataFlags {
  return Object.fromEntries(DATA_FLAG_KEYS.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]));
}

/** The command-line words that give these data options. */
export function dataFlagsArgs(flags: DataFlags): string[] {
  return DATA_FLAG_KEYS.flatMap((k) => {
    const v = flags[k];
    return v === undefined ? [] : [DATA_FLAG_NAMES[k], ...(Array.isArray(v) ? v : [String(v)])];
  });
}

/** The help paragraph on the data options, for `addHelpText('after', …)`. */
export const DATA_HELP = `
Data: the MNIST split by default (train 8000, validation 1000, test 1000 digits; docs/data.md), Fashion-MNIST
(--dataset fashion-mnist: 10,000 vendored images split the same way; --dataset fashion-mnist-full: the official
60,000 + 10,000 from --dataset-dir or Debian's folder), or your own
data with one of --data <dir> (PNG images in <dir>/<label>/, label = class index 0, 1, …; grey or colour,
converted to grey; each image must already be the model's size, e.g. 28×28), --idx <images> <labels> or
--csv <file>. Your own data is split like MNIST: seeded (--split-seed), stratified by class, with
--validation-fraction (default ${D.validationFraction}) and --test-fraction (default ${D.testFraction}) of the samples;
--split all takes every sample (e.g. a separate test set: --split all --data test-digits/).`;

/**
 * The flags with the model's built-in dataset filled in when they name no data: a model trained with
 * `--dataset fashion-mnist` (its metadata.dataset.name) is evaluated, calibrated and tuned on Fashion-MNIST by
 * default, not on MNIST digits.
 */
export function withModelDataset<F extends DataFlags>(flags: F, metadata: Record<string, unknown>): F {
  if (flags.dataset !== undefined || flags.data !== undefined || flags.idx !== undefined || flags.csv !== undefined) return flags;
  const name = (metadata.dataset as { name?: unknown } | undefined)?.name;
  return name === 'fashion-mnist' || name === 'fashion-mnist-full' ? { ...flags, dataset: name } : flags;
}

/** The data source and split options the flags name (MNIST when no dataset option is given). */
export function dataSpecFromFlags(flags: DataFlags): DataSpec {
  const given = [
    flags.dataset !== undefined && '--dataset',
    flags.data !== undefined && '--data',
    flags.idx !== undefined && '--idx',
    flags.csv !== undefined && '--csv',
  ].filter((x): x is string => x !== false);
  if (given.length > 1) throw new InputError(`give one of --dataset, --data, --idx, --csv, not ${given.join(' and ')}`);
  if (flags.datasetDir !== undefined && flags.dataset !== 'fashion-mnist-full') {
    throw new InputError('--dataset-dir applies to --dataset fashion-mnist-full only');
  }
  const split = {
    ...(flags.validationFraction !== undefined ? { validationFraction: flags.validationFraction } : {}),
    ...(flags.testFraction !== undefined ? { testFraction: flags.testFraction } : {}),
    ...(flags.splitSeed !== undefined ? { seed: flags.splitSeed } : {}),
  };
  const source = sourceFromFlags(flags);
  if (isBuiltIn({ source })) {
    if (Object.keys(split).length) {
      throw new InputError(
        `--validation-fraction, --test-fraction and --split-seed apply to your own data (--data, --idx, --csv): the ${source.kind === 'mnist' ? 'MNIST' : source.kind} split is fixed`,
      );
    }
    return { source };
  }
  return Object.keys(split).length ? { source, split } : { source };
}

function sourceFromFlags(flags: DataFlags): DataSource {
  if (flags.dataset === 'fashion-mnist-full')
    return { kind: 'fashion-mnist-full', ...(flags.datasetDir !== undefined ? { dir: flags.datasetDir } : {}) };
  if (flags.dataset === 'fashion-mnist') return { kind: 'fashion-mnist' };
  if (flags.dataset !== undefined && flags.dataset !== 'mnist') {
    throw new InputError(`--dataset ${flags.dataset}: unknown (valid: ${BUILT_IN_DATASETS.join(', ')})`);
  }
  if (flags.idx) {
    if (flags.idx.length !== 2) throw new InputError(`--idx needs two files: <images> <labels>`);
    return { kind: 'idx', images: flags.idx[0]!, labels: flags.idx[1]! };
  }
  if (flags.csvScale !== undefined && flags.csv === undefined) throw new InputError('--csv-scale applies to --csv only');
  if (flags.csv !== undefined) return { kind: 'csv', file: flags.csv, ...(flags.csvScale !== undefined ? { scale: flags.csvScale } : {}) };
  if (flags.data !== undefined) return { kind: 'images', dir: flags.data };
  return { kind: 'mnist' };
}

/** One part of the data the flags name, checked against (and shaped like) the model's input. */
export function dataPartFromFlags(flags: DataFlags, part: DataPart, inputShape?: Shape): Dataset {
  return loadDataPart(dataSpecFromFlags(flags), part, inputShape);
}
