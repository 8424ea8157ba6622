import { formatShape, ShapeError, type Tensor } from '../tensor.ts';
import type { Layer } from './layer.ts';

/**
 * For layers that map the last axis of any `[batch, ..., n]` input (Dense, BatchNormalization): builds
 * the layer on first use (Keras builds on the first call), checks `n` against what it was built for
 * (`expected()`, read after the build) and returns the number of rows, all axes but the last.
 */
export function lastAxisRows(
  layer: Layer,
  x: Tensor,
  expected: () => number,
  axis: 'feature' | 'channel',
): number {
  const where = `${layer.className} "${layer.name}"`;
  if (x.shape.length < 2) {
    throw new ShapeError(
      `${where}: input must have a batch and a ${axis} axis; received ${formatShape(x.shape)}`,
    );
  }
  if (layer.weights.length === 0) layer.build(x.shape.slice(1));
  const n = x.shape[x.shape.length - 1];
  if (n !== expected()) {
    throw new ShapeError(
      `${where}: input shape ${formatShape(x.shape)} has ${n} ${axis}s, expected ${expected()}`,
    );
  }
  return x.data.length / n;
}
