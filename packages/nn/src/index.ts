export type { DType, FloatArray, Tensor } from './tensor.ts';
export { ShapeError, allocate, formatShape, shapesEqual, sizeOf, tensor, zeros } from './tensor.ts';
export type { Layer, LayerContext, LayerSpec, Weight } from './layers/layer.ts';
export { LayerConfigError, layerFromSpec, registeredLayerClasses } from './layers/registry.ts';
export type { Kernels } from './kernels/kernels.ts';
export { kernels, setKernels } from './kernels/backend.ts';
