/** Errors of the compiler (defined with the others in src/errors.ts). */
export { CircuitError, CompileError } from '../errors.js';
