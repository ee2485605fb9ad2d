/**
 * The `pann` command line. Each command lives in its own module and registers itself here.
 */
import { Command } from 'commander';
import { registerCompile } from './compile.js';
import { registerEval } from './eval.js';
import { registerFit } from './fit.js';
import { registerImport } from './import.js';
import { registerInfo } from './info.js';
import { registerPredict } from './predict.js';
import { registerTrain } from './train.js';

const program = new Command();
program
  .name('pann')
  .description(
    'Privacy-preserving neural-network inference with low-precision polynomial activations.\n' +
      'Fit polynomial stand-ins for activations, compile trained networks into CKKS circuits,\n' +
      'run them encrypted (SEAL) or simulated, serve them, and study precision against accuracy.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false });

// Commands register below (one module each).
registerTrain(program);
registerEval(program);
registerInfo(program);
registerPredict(program);
registerCompile(program);
registerFit(program);
registerImport(program);

await program.parseAsync(process.argv);
