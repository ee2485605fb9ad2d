/** Errors of the compiler (defined with the others in src/errors.ts). */
export { CompileError } from '../errors.js';
