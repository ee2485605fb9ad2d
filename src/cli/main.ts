/**
 * The `pann` command line. Each command lives in its own module and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT } from './common.js';
import { registerCompile } from './compile.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerRun } from './run.js';
import { registerFit } from './fit.js';
import { registerImport } from './import.js';
import { registerInfo } from './info.js';
import { registerPredict } from './predict.js';
import { registerTrain } from './train.js';
import { registerStudy } from './study.js';
import { registerTune } from './tune.js';
import { registerServe } from './serve.js';
import { registerClient } from './client.js';

const program = new Command();
program
  .name('pann')
  .description(
    'Privacy-preserving neural-network inference with low-precision polynomial activations: fit polynomial ' +
      'stand-ins for activations, compile trained networks into CKKS circuits, run them encrypted (SEAL) or ' +
      'simulated, serve them, and study precision against accuracy. Start with `pann demo`.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false })
  .enablePositionalOptions(); // so `pann serve token create --auth` gives --auth to the subcommand, not to serve

// Commands register below (one module each).
// in the order a user meets them: the tour, activations, networks, circuits, serving, studies
registerDemo(program);
registerFit(program);
registerTrain(program);
registerEval(program);
registerInfo(program);
registerPredict(program);
registerImport(program);
registerCompile(program);
registerRun(program);
registerServe(program);
registerClient(program);
registerStudy(program);
registerTune(program);

// usage errors (unknown option, bad option value, missing argument) exit with 2 like every other bad input;
// --help and --version exit with 0
program.exitOverride();
for (const cmd of program.commands) cmd.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  else throw err;
}
