import type { Layer, LayerContext, LayerFactory, LayerSpec } from './layer.ts';

/** Thrown for a layer spec that names an unknown class or carries a bad config. */
export class LayerConfigError extends Error {
  override name = 'LayerConfigError';
}

const factories = new Map<string, LayerFactory>();

/** Each layer file registers its Keras class name here; `index.ts` imports every layer file once. */
export function registerLayer(className: string, factory: LayerFactory): void {
  if (factories.has(className)) throw new Error(`Layer class ${className} registered twice`);
  factories.set(className, factory);
}

export function registeredLayerClasses(): string[] {
  return [...factories.keys()].sort();
}

/** Builds a layer from its Keras `{ class_name, config }` form. */
export function layerFromSpec(spec: LayerSpec, ctx: LayerContext): Layer {
  if (spec === null || typeof spec !== 'object' || typeof spec.class_name !== 'string') {
    throw new LayerConfigError('Layer spec must be an object with a string class_name');
  }
  const factory = factories.get(spec.class_name);
  if (!factory) {
    throw new LayerConfigError(
      `Unknown layer class_name "${spec.class_name}"; known: ${registeredLayerClasses().join(', ')}`,
    );
  }
  return factory(spec.config ?? {}, ctx);
}
