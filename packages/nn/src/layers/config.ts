import { LayerConfigError } from './registry.ts';

/**
 * Keys every Keras 2 layer config may carry that do not change a layer's math here: they are accepted and
 * otherwise ignored. `batch_input_shape` is read by Sequential, not by the layer.
 */
const COMMON_KEYS = [
  'name',
  'trainable',
  'dtype',
  'batch_input_shape',
  'batch_size',
  'input_dim',
  'input_shape',
];

const nameCounters = new Map<string, number>();

/** Keras' automatic layer names: `dense`, `dense_1`, `dense_2`... per snake_case class name. */
export function uniqueLayerName(prefix: string): string {
  const n = nameCounters.get(prefix) ?? 0;
  nameCounters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/**
 * Reads a Keras snake_case config with types and defaults. Every error names the layer class, the key, what
 * was received and what was expected. `done()` rejects keys the layer does not know, as Keras rejects
 * unknown keyword arguments (a misspelt key must not silently fall back to a default).
 */
export class ConfigReader {
  private readonly known = new Set<string>(COMMON_KEYS);

  constructor(
    readonly className: string,
    readonly config: Record<string, unknown>,
  ) {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new LayerConfigError(
        `${className}: config must be an object; received ${JSON.stringify(config)}`,
      );
    }
  }

  /** Keys Keras has that carry nothing this layer models (initializers, regularizers, constraints). */
  ignore(...keys: string[]): this {
    for (const k of keys) this.known.add(k);
    return this;
  }

  /** The layer's name, or Keras' automatic one (`dense_1`) when the config has none. */
  name(prefix: string): string {
    const v = this.read('name');
    if (v === undefined || v === null) return uniqueLayerName(prefix);
    if (typeof v !== 'string' || v === '') throw this.error('name', 'a non-empty string', v);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.read(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw this.error(key, 'true or false', v);
    return v;
  }

  number(
    key: string,
    fallback: number,
    check: (v: number) => boolean = Number.isFinite,
    expected = 'a number',
  ): number {
    const v = this.read(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !check(v)) throw this.error(key, expected, v);
    return v;
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.read(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (!isPositiveInt(v)) throw this.error(key, 'a positive integer', v);
    return v;
  }

  /** Keras 2 JSON writes 1-D tuples as `[3]`; a bare `3` is accepted too. */
  positiveInt1(key: string, fallback?: number): number {
    const v = this.read(key);
    if (v === undefined && fallback !== undefined) return fallback;
    const inner = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (!isPositiveInt(inner)) throw this.error(key, 'a positive integer or a 1-element list of one', v);
    return inner;
  }

  oneOf<T extends string>(key: string, options: readonly T[], fallback: T): T {
    const v = this.read(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      throw this.error(key, `one of ${options.join(', ')}`, v);
    }
    return v as T;
  }

  /** The raw value of `key` (marking it known), for values with their own parser. */
  read(key: string): unknown {
    this.known.add(key);
    return this.config[key];
  }

  /** Throws for keys neither read nor ignored. */
  done(): void {
    const unknown = Object.keys(this.config).filter((k) => !this.known.has(k));
    if (unknown.length > 0) {
      throw new LayerConfigError(
        `${this.className}: unknown config key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; ` +
          `known: ${[...this.known].sort().join(', ')}`,
      );
    }
  }

  error(key: string, expected: string, received: unknown): LayerConfigError {
    return new LayerConfigError(
      `${this.className}: ${key} must be ${expected}; received ${JSON.stringify(received)}`,
    );
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
