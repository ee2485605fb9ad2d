/**
 * CSV datasets: one sample per line, the label in the first (or last) column and the input values in the others,
 * e.g. the common `mnist_train.csv` layout `label,pixel0,…,pixel783`. An optional header line is detected.
 */
import { readFileSync } from 'node:fs';
import { DataError, errorMessage } from '../errors.js';
import { makeDataset, type Dataset } from './dataset.js';
import { formatShape, shapeSize, type Shape } from './model.js';

export interface CsvDatasetOptions {
  /** Which column holds the class label. @default 'first' */
  labelColumn?: 'first' | 'last';
  /** Whether the first line is a header: true, false, or 'auto' (a header has a non-numeric field). @default 'auto' */
  header?: boolean | 'auto';
  /** Multiply every input value by this (e.g. 1/255 for raw pixels). @default 1 */
  scale?: number;
  /** Shape of one input (e.g. [1, 28, 28]); its size must equal the number of value columns. @default [columns] */
  inputShape?: Shape;
  /** Number of classes. @default largest label + 1 */
  classes?: number;
  /** Field separator. @default ',' */
  delimiter?: string;
}

/** Parse CSV text into a dataset; errors name the line and column. */
export function parseCsvDataset(text: string, options: CsvDatasetOptions = {}, source = 'csv'): Dataset {
  const { labelColumn = 'first', header = 'auto', scale = 1, delimiter = ',' } = options;
  const lines = text.split(/\r?\n/);
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  if (first >= lines.length) throw new DataError(`${source}: no data lines`);
  const firstFields = lines[first]!.split(delimiter);
  const isHeader = header === 'auto' ? firstFields.some((f) => f.trim() === '' || !Number.isFinite(Number(f))) : header;
  if (isHeader) first++;
  let dataLines = 0;
  for (let li = first; li < lines.length; li++) if (lines[li]!.trim() !== '') dataLines++;
  let values = new Float64Array(0);
  const labels = new Int32Array(dataLines);
  let count = 0;
  let columns = -1;
  for (let li = first; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.trim() === '') continue;
    const fields = line.split(delimiter);
    if (columns < 0) {
      columns = fields.length;
      if (columns < 2) throw new DataError(`${source}: line ${li + 1}: need a label and at least one value column`);
      values = new Float64Array(dataLines * (columns - 1));
    } else if (fields.length !== columns) {
      throw new DataError(`${source}: line ${li + 1}: expected ${columns} columns, got ${fields.length}`);
    }
    const labelAt = labelColumn === 'first' ? 0 : columns - 1;
    let o = count * (columns - 1);
    for (let c = 0; c < columns; c++) {
      const raw = fields[c]!.trim();
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw new DataError(`${source}: line ${li + 1} column ${c + 1}: '${raw}' is not a finite number`);
      if (c === labelAt) {
        if (!Number.isInteger(v) || v < 0) {
          throw new DataError(`${source}: line ${li + 1} column ${c + 1}: label '${raw}' is not a non-negative integer`);
        }
        labels[count] = v;
      } else {
        values[o++] = v * scale;
      }
    }
    count++;
  }
  if (count === 0) throw new DataError(`${source}: no data lines`);
  const features = columns - 1;
  const inputShape = options.inputShape ?? [features];
  if (shapeSize(inputShape) !== features) {
    throw new DataError(
      `${source}: inputShape ${formatShape(inputShape)} needs ${shapeSize(inputShape)} values per line, the file has ${features}`,
    );
  }
  return makeDataset(source, values, labels, inputShape, options.classes);
}

export function loadCsvDataset(path: string, options: CsvDatasetOptions = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseCsvDataset(text, options, path);
}
