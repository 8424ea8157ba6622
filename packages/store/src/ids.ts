import { errors } from './errors.ts';

/**
 * The one schema for every id that ends up in a path (users, clips, model versions): letters, digits,
 * `_` and `-`, 1 to 64 characters. Ids are checked against it before they are ever joined into a path.
 */
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const ID_REGEXP = new RegExp(ID_PATTERN);

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_REGEXP.test(value);
}

/** Throws `KWS_ERR_VALIDATION` naming what was received when `value` is not an id. */
export function assertId(kind: string, value: unknown): asserts value is string {
  if (!isId(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
    throw errors.VALIDATION(`${kind} must match ${ID_PATTERN}, received ${shown}`);
  }
}
