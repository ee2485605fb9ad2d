/**
 * The public API (src/index.ts): the list of names changes only on purpose, and every name carries TSDoc where
 * it is declared (read with the TypeScript compiler, as an editor shows it).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as pann from '../src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('the public API', () => {
  it('exports exactly this list (change it on purpose)', () => {
    expect(Object.keys(pann).sort()).toMatchInlineSnapshot(`
      [
        "ACTIVATION_NAMES",
        "Activation",
        "ActivationError",
        "CircuitError",
        "CkksError",
        "CkksParameters",
        "CompileError",
        "DataError",
        "FitError",
        "InputError",
        "ModelError",
        "OnnxError",
        "PRECISION_BITS_RANGE",
        "PannClient",
        "PannError",
        "PannServer",
        "RuntimeError",
        "ServerError",
        "StudyError",
        "TrainError",
        "activation",
        "approx",
        "approximationFileText",
        "circuit",
        "ckks",
        "compile",
        "compileNetwork",
        "compiler",
        "estimateNoise",
        "evaluateModel",
        "fitApproximation",
        "fitForPrecision",
        "fitterProvider",
        "gridFromJSON",
        "importOnnx",
        "loadCircuit",
        "loadMnistSplit",
        "loadModel",
        "loadOnnx",
        "measureMaxError",
        "nn",
        "parseActivation",
        "parseApproximationFile",
        "parseCircuit",
        "parseModel",
        "predict",
        "runSeal",
        "runSealParallel",
        "runSim",
        "runStudy",
        "runtime",
        "saveCircuit",
        "saveModel",
        "serializeCircuit",
        "serializeModel",
        "server",
        "study",
        "trainModel",
        "tuneModel",
      ]
    `);
  });

  it('documents every export with TSDoc', () => {
    const entry = join(root, 'src/index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
    });
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const exports = checker.getExportsOfModule(module);
    expect(exports.length).toBeGreaterThan(50);
    const undocumented = exports
      .filter((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        if (target.flags & ts.SymbolFlags.ValueModule) {
          // a namespace export: the module's own header comment documents it
          const file = target.declarations?.[0]?.getSourceFile();
          return !file || !/^\/\*\*/.test(file.text.trimStart());
        }
        return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '';
      })
      .map((s) => s.name);
    expect(undocumented).toEqual([]);
  });
});
