import { describe, expect, it } from 'vitest';
import { randomTensor, seededRandom } from '../../test/finite-diff.ts';
import type { LayerSpec } from '../layers/layer.ts';
import { ModelFileError, readModelFile, writeModelFile } from './file.ts';
import { loadModel, saveModel } from './save.ts';
import { Sequential } from './sequential.ts';

const detectorLike: LayerSpec[] = [
  { class_name: 'Conv1D', config: { filters: 6, kernel_size: 3, padding: 'same' } },
  { class_name: 'BatchNormalization', config: {} },
  { class_name: 'Activation', config: { activation: 'relu' } },
  {
    class_name: 'Bidirectional',
    config: { layer: { class_name: 'LSTM', config: { units: 4, return_sequences: true } } },
  },
  {
    class_name: 'TimeDistributed',
    config: { layer: { class_name: 'Dense', config: { units: 1, activation: 'sigmoid' } } },
  },
];

function trainedModel(): Sequential {
  const model = Sequential.fromSpec(detectorLike);
  const x = randomTensor([2, 9, 5], seededRandom(1), 'float32');
  model.forwardTrain(x); // moves BatchNormalization's moving statistics off their initial values
  return model;
}

describe('saveModel / loadModel', () => {
  it('round-trips layers, every weight and extra header fields; outputs equal at another time length', () => {
    const model = trainedModel();
    const bytes = saveModel(model, { extra: { keyword: 'hey nova', threshold: 0.5 } });
    const { model: loaded, extra } = loadModel(bytes);
    expect(extra).toEqual({ keyword: 'hey nova', threshold: 0.5 });
    expect(loaded.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name));
    loaded.getWeights().forEach((w, i) => {
      expect(Array.from(w.data)).toEqual(Array.from(model.getWeights()[i].data));
    });
    const x = randomTensor([1, 13, 5], seededRandom(2), 'float32');
    const a = model.forward(x).data.slice();
    const b = loaded.forward(x).data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('float16 storage stays within half-precision error of the float32 model', () => {
    const model = trainedModel();
    const { model: loaded } = loadModel(saveModel(model, { dtype: 'float16' }));
    const x = randomTensor([1, 7, 5], seededRandom(3), 'float32');
    const a = model.forward(x).data.slice();
    const b = loaded.forward(x).data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(5e-3);
  });

  it('refuses an unbuilt model and a file whose tensors do not fit its layers', () => {
    expect(() => saveModel(Sequential.fromSpec(detectorLike))).toThrow(/build the model/);
    const model = trainedModel();
    const other = Sequential.fromSpec([{ class_name: 'Dense', config: { units: 3 } }]);
    other.build([9, 5]);
    const bytes = saveModel(model);
    // Same container, layers swapped for a model with a different weight list.
    const file = readModelFile(bytes);
    const forged = writeModelFile({ layers: other.toJSON().config.layers, tensors: file.tensors });
    expect(() => loadModel(forged)).toThrow(ModelFileError);
    expect(() => loadModel(forged)).toThrow(/tensors, its layers need 2/);
  });
});
