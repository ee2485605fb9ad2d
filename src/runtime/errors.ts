/** Errors of the runtime (defined with the others in src/errors.ts). */
export { InputError, RuntimeError } from '../errors.js';
