export { kernels, setKernels } from './kernels/backend.ts';
export type { Kernels } from './kernels/kernels.ts';
export type { ActivationArgs } from './layers/activation.ts';
export { Activation } from './layers/activation.ts';
export type { ActivationName } from './layers/activations.ts';
export type { BatchNormalizationArgs } from './layers/batch-normalization.ts';
export { BatchNormalization } from './layers/batch-normalization.ts';
export type { Conv1DArgs, Conv1DPadding } from './layers/conv1d.ts';
export { Conv1D } from './layers/conv1d.ts';
export type { DenseArgs } from './layers/dense.ts';
export { Dense } from './layers/dense.ts';
export type { Layer, LayerContext, LayerSpec, Weight } from './layers/layer.ts';
export { LayerConfigError, layerFromSpec, registeredLayerClasses } from './layers/registry.ts';
export type { BidirectionalArgs, MergeMode } from './layers/rnn/bidirectional.ts';
export { Bidirectional } from './layers/rnn/bidirectional.ts';
export type { GatedRecurrentArgs, GRUArgs, LSTMArgs, RecurrentArgs } from './layers/rnn/recurrent.ts';
export { GRU, LSTM, RecurrentLayer, SimpleRNN } from './layers/rnn/recurrent.ts';
export type { TimeDistributedArgs } from './layers/time-distributed.ts';
export { TimeDistributed } from './layers/time-distributed.ts';
export type { BinaryCrossentropyArgs, ClassWeights } from './losses/binary-crossentropy.ts';
export { BinaryCrossentropy } from './losses/binary-crossentropy.ts';
export type { CategoricalCrossentropyArgs } from './losses/categorical-crossentropy.ts';
export { CategoricalCrossentropy } from './losses/categorical-crossentropy.ts';
export type { Loss, LossResult } from './losses/loss.ts';
export { MeanSquaredError } from './losses/mean-squared-error.ts';
export type { ModelFileContents, ModelTensor, StorageDType } from './model/file.ts';
export { MODEL_FILE_FORMAT_VERSION, ModelFileError, readModelFile, writeModelFile } from './model/file.ts';
export type { LoadedModel, SaveModelOptions } from './model/save.ts';
export { loadModel, saveModel } from './model/save.ts';
export type {
  DeclaredShape,
  RunResult,
  RunSpec,
  SequentialJSON,
  SequentialOptions,
} from './model/sequential.ts';
export { runSpec, Sequential } from './model/sequential.ts';
export type { AdamArgs } from './optimizers/adam.ts';
export { Adam } from './optimizers/adam.ts';
export type { OptimizerArgs, OptimizerState, Trainables } from './optimizers/optimizer.ts';
export { Optimizer } from './optimizers/optimizer.ts';
export type { SGDArgs } from './optimizers/sgd.ts';
export { SGD } from './optimizers/sgd.ts';
export type { DType, FloatArray, Tensor } from './tensor.ts';
export { allocate, formatShape, ShapeError, shapesEqual, sizeOf, tensor, zeros } from './tensor.ts';
