import { ID_PATTERN } from '@kws/store';

export { assertId, ID_PATTERN, isId } from '@kws/store';

/** JSON schema of an id (`@kws/store`'s one id pattern), shared by route params and bodies. */
export const idSchema = { type: 'string', pattern: ID_PATTERN } as const;
