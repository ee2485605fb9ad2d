/**
 * `pann client infer|models --server URL`: the data owner's side. Keys are generated here (the secret key never
 * leaves this process), the evaluation keys uploaded, each input encrypted, sent, and the result decrypted here.
 */
import { Command } from 'commander';
import { InputError } from '../errors.js';
import { loadMnistSplit } from '../nn/mnist.js';
import { PannClient, type ClientInference, type SessionSetup } from '../server/client.js';
import { action, intOption, printJson, ProgressBar } from './common.js';
import { readImageFiles, readInputsFile } from './predict.js';

interface InferFlags {
  server: string;
  model: string;
  token?: string;
  index?: number;
  image?: string;
  input?: string;
  json?: boolean;
  quiet?: boolean;
}

interface Inputs {
  values: Float64Array;
  count: number;
  labels: (number | null)[];
  source: string;
}

function inputsFor(flags: InferFlags, size: number): Inputs {
  const given = [flags.index !== undefined, flags.image !== undefined, flags.input !== undefined].filter(Boolean).length;
  if (given !== 1) throw new InputError('give exactly one of --index, --image or --input');
  if (flags.input) {
    const values = readInputsFile(flags.input, size);
    return { values, count: values.length / size, labels: new Array<number | null>(values.length / size).fill(null), source: flags.input };
  }
  if (size !== 784) throw new InputError(`model ${flags.model} takes ${size} inputs, not an MNIST digit: use --input inputs.json`);
  if (flags.image) return { values: readImageFiles([flags.image], size), count: 1, labels: [null], source: flags.image };
  const test = loadMnistSplit('test');
  const i = flags.index!;
  if (i >= test.count) throw new InputError(`--index ${i} is outside the MNIST test split (0..${test.count - 1})`);
  return { values: test.inputs.slice(i * size, (i + 1) * size), count: 1, labels: [test.labels[i]!], source: `MNIST test[${i}]` };
}

function bytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function report(model: string, setup: SessionSetup, results: ClientInference[], inputs: Inputs): string {
  const lines = [`model ${model} on the server; ${inputs.count} input(s) from ${inputs.source}`, ''];
  results.forEach((r, n) => {
    const label = inputs.labels[n];
    lines.push(`input ${n}: prediction ${r.prediction}${label !== null && label !== undefined ? ` (label ${label})` : ''}`);
    lines.push(`  logits ${Array.from(r.logits, (v) => v.toFixed(3)).join(' ')}`);
  });
  const r = results[0]!;
  const refresh = r.rounds.length > 0 ? [`  refresh rounds (here)      ${r.timings.refreshMs.toFixed(1).padStart(8)}`] : [];
  lines.push(
    '',
    'timing (ms, the first input):',
    `  keygen (here)              ${setup.keygenMs.toFixed(0).padStart(8)}`,
    `  key upload + server load   ${setup.openMs.toFixed(0).padStart(8)}`,
    `  encrypt (here)             ${r.timings.encryptMs.toFixed(1).padStart(8)}`,
    `  round trips                ${r.timings.roundTripMs.toFixed(1).padStart(8)}  (server: queue ${r.timings.serverQueueMs.toFixed(1)}, evaluate ${r.timings.serverEvalMs.toFixed(1)})`,
    ...refresh,
    `  decrypt (here)             ${r.timings.decryptMs.toFixed(1).padStart(8)}`,
    ...roundLines(r),
    '',
    `bytes: keys sent ${bytes(setup.bytesSent)} (predicted ${bytes(setup.predictedKeyBytes)} of keys); per inference sent ${bytes(r.bytesSent)}, received ${bytes(r.bytesReceived)}`,
  );
  return lines.join('\n');
}

/** One line per refresh round of an inference: ciphertexts, bytes each way, the key holder's and the server's time. */
function roundLines(r: ClientInference): string[] {
  if (r.rounds.length === 0) return [];
  return [
    '',
    `refresh rounds (${r.rounds.length}; the server masks, this client decrypts and encrypts afresh, the server unmasks):`,
    ...r.rounds.map(
      (x) =>
        `  round ${x.round + 1}/${r.rounds.length}: ${x.ciphertexts} ciphertext(s); received ${bytes(x.bytesReceived)}, sent ${bytes(x.bytesSent)}; ` +
        `here ${x.keyHolderMs.toFixed(1)} ms, round trip ${x.roundTripMs.toFixed(1)} ms (server evaluate ${x.serverEvalMs.toFixed(1)})`,
    ),
  ];
}

export function registerClient(program: Command): void {
  const client = program.command('client').description('encrypted inference against a `pann serve` server (keys stay here)');
  client
    .command('models')
    .description('list the models a server serves')
    .requiredOption('-s, --server <url>', 'server base URL, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'bearer token for a server run with --auth (default: $PANN_TOKEN)')
    .option('--json', 'print JSON')
    .action(action('client models', modelsCommand));
  client
    .command('infer')
    .description(
      'encrypt input(s) here, evaluate on the server (answering its refresh rounds here), decrypt here; prints predictions, timing per stage, bytes each way and per round',
    )
    .requiredOption('-s, --server <url>', 'server base URL, e.g. http://127.0.0.1:8080')
    .requiredOption('-m, --model <id>', 'model id (see `pann client models`)')
    .option('--token <token>', 'bearer token for a server run with --auth (default: $PANN_TOKEN)')
    .option('--index <i>', 'an MNIST test digit by index', intOption('--index', 0, 1e9))
    .option('--image <file.png>', 'a PNG digit (grey by luminance, inverted if light background, MNIST-normalised to 28×28)')
    .option('-i, --input <file>', 'a JSON array of flat input vectors')
    .option('--json', 'print the results as JSON')
    .option('-q, --quiet', 'no upload progress bar')
    .addHelpText(
      'after',
      `
Examples:
  $ pann client infer --server http://127.0.0.1:8080 --model mnist-mlp-relu-k6 --index 7
  $ pann client infer -s http://127.0.0.1:8080 -m mnist-mlp-relu-k6 --image digit.png --json`,
    )
    .action(action('client infer', inferCommand));
}

/** The token from --token or $PANN_TOKEN. */
function clientOptions(flags: { token?: string }): { token?: string } {
  const token = flags.token ?? process.env['PANN_TOKEN'];
  return token ? { token } : {};
}

/** `pann client models`: one line per served model (or JSON). */
async function modelsCommand(flags: { server: string; token?: string; json?: boolean }): Promise<void> {
  const c = new PannClient(flags.server, clientOptions(flags));
  try {
    const models = await c.listModels();
    if (flags.json) return printJson({ models });
    for (const m of models) {
      process.stdout.write(
        `${m.id}: ${m.model}, N=${m.polyModulusDegree}, depth ${m.depth}, ${m.inputLength} → ${m.outputLength}, ${m.rotationSteps} rotation keys (${bytes(m.evaluationKeyUploadBytes)} to upload)${m.refreshRounds ? `, ${m.refreshRounds} refresh round(s)` : ''}, ~${m.predictedLatencyMs.toFixed(0)} ms\n`,
      );
    }
  } finally {
    c.close();
  }
}

/** `pann client infer`: open a session (keys made here, evaluation keys uploaded), infer each input, close, report. */
async function inferCommand(flags: InferFlags): Promise<void> {
  const c = new PannClient(flags.server, clientOptions(flags));
  try {
    const description = await c.describeModel(flags.model);
    const size = description.input.length;
    const inputs = inputsFor(flags, size);
    const bar = new ProgressBar('key upload', { quiet: !!flags.quiet || !!flags.json });
    const session = await c.openSession(flags.model, {
      onProgress: (sent, total) => bar.update(Math.round(sent / 1e6), Math.round(total / 1e6), 'MB'),
    });
    bar.done();
    const results: ClientInference[] = [];
    try {
      for (let n = 0; n < inputs.count; n++) results.push(await session.infer(inputs.values.subarray(n * size, (n + 1) * size)));
    } finally {
      await session.close();
    }
    if (flags.json) {
      printJson({ model: flags.model, session: session.setup, results: results.map((r, n) => resultJson(r, inputs.labels[n])) });
      return;
    }
    process.stdout.write(`${report(flags.model, session.setup, results, inputs)}\n`);
  } finally {
    c.close();
  }
}

/** One inference for --json: its label (when known), prediction, logits, timings and bytes. */
function resultJson(r: ClientInference, label: number | null | undefined): Record<string, unknown> {
  return {
    ...(label !== null ? { label } : {}),
    prediction: r.prediction,
    logits: Array.from(r.logits),
    timings: r.timings,
    bytesSent: r.bytesSent,
    bytesReceived: r.bytesReceived,
    rounds: r.rounds,
  };
}
