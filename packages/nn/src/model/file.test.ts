import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/finite-diff.ts';
import {
  float16BitsToNumber,
  float32ToFloat16Bits,
  MODEL_FILE_ALIGNMENT,
  type ModelFileContents,
  ModelFileError,
  type ModelTensor,
  readModelFile,
  type StorageDType,
  writeModelFile,
} from './file.ts';

const fixture = new Uint8Array(readFileSync(new URL('../../test/fixtures/tiny.kws', import.meta.url)));

/** What make-tiny-kws.py wrote, as writeModelFile's input. */
const tinyContents: ModelFileContents = {
  layers: [
    { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: true } },
    {
      class_name: 'BatchNormalization',
      config: { name: 'batch_normalization', momentum: 0.99, epsilon: 0.001 },
    },
  ],
  tensors: [
    {
      name: 'dense/kernel',
      shape: [3, 2],
      data: Float32Array.of(0.5, -1.25, 0.1, 3, -0.0078125, 2e-5),
      dtype: 'float16',
    },
    { name: 'dense/bias', shape: [2], data: Float32Array.of(0.5, -0.3), dtype: 'int8' },
    { name: 'batch_normalization/gamma', shape: [2], data: Float32Array.of(1, 0.75) },
    { name: 'batch_normalization/beta', shape: [2], data: Float32Array.of(0, -0.125) },
    { name: 'batch_normalization/moving_mean', shape: [2], data: Float32Array.of(0.25, -1.5) },
    { name: 'batch_normalization/moving_variance', shape: [2], data: Float32Array.of(1, 2.5) },
  ],
  extra: {
    keyword: 'hey nova',
    created_at: '2026-11-02T10:00:00.000Z',
    base_model_sha256: null,
    feature_config: {
      sample_rate: 16000,
      frame_length: 400,
      frame_step: 160,
      fft_length: 512,
      window: 'hann_periodic',
      num_mel_bins: 40,
      lower_edge_hertz: 20,
      upper_edge_hertz: 7600,
      log_offset: 1e-6,
      num_mfcc: 13,
    },
    threshold: 0.5,
    smoothing: { window_frames: 150, hop_s: 0.25, refractory_s: 1 },
    metrics: {},
    notes: 'tiny golden model — the header length counts UTF-8 bytes',
  },
};

describe('golden tiny.kws (written by test/fixtures/make-tiny-kws.py with numpy)', () => {
  it('has the layout of DESIGN §3, checked byte by byte', () => {
    expect(String.fromCharCode(...fixture.subarray(0, 4))).toBe('KWS1');
    const headerLength = new DataView(fixture.buffer, fixture.byteOffset).getUint32(4, true);
    const json = new TextDecoder().decode(fixture.subarray(8, 8 + headerLength));
    // The length counts bytes, not characters: the em dash in "notes" is 3 UTF-8 bytes.
    expect(headerLength).toBe(1268);
    expect(json.length).toBe(1266);
    expect(json.endsWith(']}')).toBe(true);
    expect(() => JSON.parse(json)).not.toThrow();
    // Zero padding up to the data section at the next multiple of 16 after 8 + 1268 = 1276.
    expect([...fixture.subarray(1276, 1280)]).toEqual([0, 0, 0, 0]);
    // dense/kernel float16 at 1280: 0.5 = 0x3800, -1.25 = 0xbd00, 0.1 → 0x2e66, 3 = 0x4200,
    // -2^-7 = 0xa000, 2e-5 → subnormal 336·2^-24 = 0x0150.
    const f16 = new DataView(fixture.buffer, fixture.byteOffset + 1280, 12);
    expect([0, 1, 2, 3, 4, 5].map((i) => f16.getUint16(2 * i, true))).toEqual([
      0x3800, 0xbd00, 0x2e66, 0x4200, 0xa000, 0x0150,
    ]);
    // dense/bias int8 at 1296: 0.5 / (0.5/127) = 127, −0.3 / (0.5/127) = −76.2 → −76.
    expect([...new Int8Array(fixture.buffer, fixture.byteOffset + 1296, 2)]).toEqual([127, -76]);
    // Four float32 [2] tensors at 1312, 1328, 1344, 1360; the file ends after the last one.
    expect(new DataView(fixture.buffer, fixture.byteOffset).getFloat32(1312 + 4, true)).toBe(0.75);
    expect(fixture.length).toBe(1360 + 8);
  });

  it('reads back every field and decoded value', () => {
    const read = readModelFile(fixture);
    expect(read.layers).toEqual(tinyContents.layers);
    expect(read.extra).toEqual(tinyContents.extra);
    expect(read.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(
      tinyContents.tensors.map((t) => [t.name, t.dtype ?? 'float32', t.shape]),
    );
    expect([...read.tensors[0].data]).toEqual([0.5, -1.25, 0.0999755859375, 3, -0.0078125, 336 * 2 ** -24]);
    const scale = Math.fround(0.5 / 127);
    expect(read.tensors[1].scale).toBe(scale);
    expect([...read.tensors[1].data]).toEqual([Math.fround(127 * scale), Math.fround(-76 * scale)]);
    for (let i = 2; i < 6; i++) expect(read.tensors[i].data).toEqual(tinyContents.tensors[i].data);
  });

  it('is exactly what writeModelFile produces for the same contents', () => {
    expect(Buffer.from(writeModelFile(tinyContents)).equals(Buffer.from(fixture))).toBe(true);
  });
});

const random = seededRandom(99);

function randomTensor(name: string, shape: number[], dtype: StorageDType, spread = 1): ModelTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * random() - 1) * spread * 10 ** (-3 * random());
  return { name, shape, data, dtype };
}

describe('round trip', () => {
  const shapes = [[], [0], [1], [7], [3, 5], [13, 32, 3], [2, 3, 4, 5]];

  it('float32 is exact for every shape, including empty and scalar', () => {
    const tensors = shapes.map((s, i) => randomTensor(`t${i}`, s, 'float32'));
    const read = readModelFile(writeModelFile({ layers: [], tensors }));
    read.tensors.forEach((t, i) => {
      expect(t.shape).toEqual(tensors[i].shape);
      expect(t.data).toEqual(tensors[i].data);
    });
  });

  it('float16 stays within half a float16 ulp (relative 2^-11; absolute 2^-25 among subnormals)', () => {
    const tensors = shapes.map((s, i) => randomTensor(`t${i}`, s, 'float16', 100));
    const read = readModelFile(writeModelFile({ layers: [], tensors, dtype: 'float16' }));
    read.tensors.forEach((t, i) => {
      expect(t.dtype).toBe('float16');
      t.data.forEach((v, j) => {
        const x = tensors[i].data[j];
        expect(Math.abs(v - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
      });
    });
  });

  it('int8 stays within half a quantization step, and is symmetric around zero', () => {
    const tensors = shapes.map((s, i) => randomTensor(`t${i}`, s, 'int8', 3));
    tensors.push({ name: 'zeros', shape: [4], data: new Float32Array(4) });
    tensors.push({ name: 'mirror', shape: [4], data: Float32Array.of(0.7, -0.7, 0.35, -0.35) });
    const read = readModelFile(writeModelFile({ layers: [], tensors, dtype: 'int8' }));
    read.tensors.forEach((t, i) => {
      const x = tensors[i].data;
      const maxAbs = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(t.scale).toBe(maxAbs === 0 ? 1 : Math.fround(maxAbs / 127));
      // Half a step, plus the float32 rounding of the decoded value scale·q.
      t.data.forEach((v, j) => {
        expect(Math.abs(v - x[j])).toBeLessThanOrEqual((t.scale as number) * 0.5 + Math.abs(x[j]) * 2 ** -23);
      });
    });
    const mirror = read.tensors[read.tensors.length - 1].data;
    expect(mirror[1]).toBe(-mirror[0]);
    expect(mirror[3]).toBe(-mirror[2]);
    expect([...read.tensors[read.tensors.length - 2].data]).toEqual([0, 0, 0, 0]);
  });

  it('aligns the data section and every offset to 16 bytes for every header length residue', () => {
    for (let pad = 0; pad < 2 * MODEL_FILE_ALIGNMENT; pad++) {
      const tensors = [
        randomTensor('a', [3], 'int8'),
        randomTensor('b', [5], 'float16'),
        randomTensor('c', [1], 'float32'),
      ];
      const bytes = writeModelFile({ layers: [], tensors, extra: { pad: 'x'.repeat(pad) } });
      const headerLength = new DataView(bytes.buffer).getUint32(4, true);
      const dataStart = Math.ceil((8 + headerLength) / 16) * 16;
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
      expect(header.tensors.map((t: { offset: number }) => t.offset)).toEqual([0, 16, 32]);
      expect(bytes.subarray(8 + headerLength, dataStart).every((b) => b === 0)).toBe(true);
      expect(bytes.length).toBe(dataStart + 32 + 4);
      expect(readModelFile(bytes).extra.pad).toBe('x'.repeat(pad));
    }
  });

  it('passes extra header fields through untouched, with a per-file dtype that tensors may override', () => {
    const extra = {
      keyword: 'hey nova',
      metrics: { frr: 0.05, fa_per_hour: 0.5, eval: { voices: ['en-us+f3'] } },
    };
    const tensors = [
      randomTensor('a', [4], 'float32'),
      { ...randomTensor('b', [4], 'float32'), dtype: undefined },
    ];
    const read = readModelFile(
      writeModelFile({ layers: [{ class_name: 'Dense', config: {} }], tensors, dtype: 'int8', extra }),
    );
    expect(read.extra).toEqual(extra);
    expect(read.tensors.map((t) => t.dtype)).toEqual(['float32', 'int8']);
  });
});

describe('float16 conversion', () => {
  it('round-trips every finite float16 and keeps NaN a NaN', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16BitsToNumber(bits);
      const back = float32ToFloat16Bits(value);
      const ok = Number.isNaN(value) ? (back & 0x7fff) > 0x7c00 : back === bits;
      if (!ok) wrong.push(`0x${bits.toString(16)} → ${value} → 0x${back.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds exact midpoints to the even neighbour and anything past them away', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x7bff; bits++) {
      const lo = float16BitsToNumber(bits);
      const hi = float16BitsToNumber(bits + 1);
      const mid = (lo + hi) / 2; // exact in float32: 12 significant bits at most
      const even = bits % 2 === 0 ? bits : bits + 1;
      const above = Math.fround(mid + (hi - lo) / 64);
      const below = Math.fround(mid - (hi - lo) / 64);
      if (
        float32ToFloat16Bits(mid) !== even ||
        float32ToFloat16Bits(-mid) !== (even | 0x8000) ||
        float32ToFloat16Bits(above) !== bits + 1 ||
        float32ToFloat16Bits(below) !== bits
      ) {
        wrong.push(bits);
      }
    }
    expect(wrong).toEqual([]);
    expect(float32ToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0);
    expect(float32ToFloat16Bits(Math.fround(2 ** -25 * 1.0001))).toBe(1);
  });
});

/** Rewrites the header of a valid file (keeping its data section) to build corrupted files. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => unknown): Uint8Array {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const dataStart = Math.ceil((8 + headerLength) / 16) * 16;
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const edited = edit(header) ?? header;
  const json = new TextEncoder().encode(JSON.stringify(edited));
  const newStart = Math.ceil((8 + json.length) / 16) * 16;
  const out = new Uint8Array(newStart + bytes.length - dataStart);
  out.set(bytes.subarray(0, 4));
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(bytes.subarray(dataStart), newStart);
  return out;
}

function tensorEntry(h: Record<string, unknown>, i: number): Record<string, unknown> {
  return (h.tensors as Record<string, unknown>[])[i];
}

describe('corrupted files are rejected with a message naming the problem', () => {
  const setLength = (bytes: Uint8Array, n: number) => {
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint32(4, n, true);
    return copy;
  };
  const badUtf8 = fixture.slice();
  badUtf8[20] = 0xff;
  const cases: [string, Uint8Array, string][] = [
    [
      'empty file',
      new Uint8Array(0),
      'truncated header: the file has 0 bytes but the magic and header length need 8',
    ],
    ['5 bytes', fixture.slice(0, 5), 'truncated header: the file has 5 bytes'],
    [
      'wrong magic',
      Uint8Array.from([0x52, 0x49, 0x46, 0x46, ...fixture.subarray(4)]),
      'wrong magic: expected "KWS1" (4b 57 53 31), got 52 49 46 46',
    ],
    [
      'header length beyond the file',
      setLength(fixture, 5000),
      'header length 5000 runs past the end of the file: only 1360 bytes follow',
    ],
    [
      'truncated inside the header',
      fixture.slice(0, 600),
      'header length 1268 runs past the end of the file: only 592 bytes follow',
    ],
    ['header length cutting the JSON short', setLength(fixture, 1000), 'header is not valid UTF-8 JSON'],
    ['invalid UTF-8 in the header', badUtf8, 'header is not valid UTF-8 JSON'],
    ['header not an object', withHeader(fixture, () => [1, 2]), 'header must be a JSON object'],
    [
      'no format_version',
      withHeader(fixture, (h) => {
        delete h.format_version;
      }),
      'header is missing the field "format_version"',
    ],
    [
      'no layers',
      withHeader(fixture, (h) => {
        delete h.layers;
      }),
      'header is missing the field "layers"',
    ],
    [
      'no tensors',
      withHeader(fixture, (h) => {
        delete h.tensors;
      }),
      'header is missing the field "tensors"',
    ],
    [
      'newer format',
      withHeader(fixture, (h) => {
        h.format_version = 2;
      }),
      'unsupported format_version 2; this reader knows 1',
    ],
    [
      'layers not a list',
      withHeader(fixture, (h) => {
        h.layers = { class_name: 'Dense' };
      }),
      'layers must be an array',
    ],
    [
      'layer without class_name',
      withHeader(fixture, (h) => {
        h.layers = [{ config: {} }];
      }),
      'layers[0] must be an object with a string class_name',
    ],
    [
      'tensor without length',
      withHeader(fixture, (h) => {
        delete tensorEntry(h, 2).length;
      }),
      'tensor batch_normalization/gamma is missing the field "length"',
    ],
    [
      'tensor without name',
      withHeader(fixture, (h) => {
        delete tensorEntry(h, 0).name;
      }),
      'tensors[0] is missing the field "name"',
    ],
    [
      'unknown dtype',
      withHeader(fixture, (h) => {
        tensorEntry(h, 2).dtype = 'float64';
      }),
      'tensor batch_normalization/gamma: unknown dtype "float64"; expected float32, float16 or int8',
    ],
    [
      'misaligned offset',
      withHeader(fixture, (h) => {
        tensorEntry(h, 3).offset = 40;
      }),
      'tensor batch_normalization/beta: offset 40 is misaligned; offsets must be multiples of 16',
    ],
    [
      'negative offset',
      withHeader(fixture, (h) => {
        tensorEntry(h, 3).offset = -16;
      }),
      'offset must be an integer >= 0, got -16',
    ],
    [
      'offset out of range',
      withHeader(fixture, (h) => {
        tensorEntry(h, 5).offset = 96;
      }),
      'tensor batch_normalization/moving_variance: bytes [96, 104) are out of range; the data section has 88 bytes',
    ],
    [
      'data section truncated',
      fixture.slice(0, fixture.length - 3),
      'bytes [80, 88) are out of range; the data section has 85 bytes',
    ],
    [
      'length not matching shape',
      withHeader(fixture, (h) => {
        tensorEntry(h, 0).shape = [2, 2];
      }),
      'tensor dense/kernel: length 12 does not match shape [2, 2] × float16 (8 bytes)',
    ],
    [
      'fractional length',
      withHeader(fixture, (h) => {
        tensorEntry(h, 0).length = 11.5;
      }),
      'length must be an integer >= 0, got 11.5',
    ],
    [
      'bad shape',
      withHeader(fixture, (h) => {
        tensorEntry(h, 0).shape = [3, -2];
      }),
      'shape must be an array of integers >= 0, got [3,-2]',
    ],
    [
      'NaN scale (JSON writes NaN as null)',
      withHeader(fixture, (h) => {
        tensorEntry(h, 1).scale = Number.NaN;
      }),
      'tensor dense/bias: int8 needs a finite scale > 0, got null',
    ],
    [
      'scale as a string',
      withHeader(fixture, (h) => {
        tensorEntry(h, 1).scale = 'NaN';
      }),
      'int8 needs a finite scale > 0, got "NaN"',
    ],
    [
      'missing scale',
      withHeader(fixture, (h) => {
        delete tensorEntry(h, 1).scale;
      }),
      'int8 needs a finite scale > 0, got null',
    ],
    [
      'zero scale',
      withHeader(fixture, (h) => {
        tensorEntry(h, 1).scale = 0;
      }),
      'int8 needs a finite scale > 0, got 0',
    ],
    [
      'scale on a float tensor',
      withHeader(fixture, (h) => {
        tensorEntry(h, 2).scale = 1;
      }),
      'scale is only meaningful for int8, but dtype is float32',
    ],
    [
      'overlapping tensors',
      withHeader(fixture, (h) => {
        tensorEntry(h, 3).offset = 32;
      }),
      'tensor batch_normalization/beta overlaps tensor batch_normalization/gamma',
    ],
    [
      'duplicate names',
      withHeader(fixture, (h) => {
        tensorEntry(h, 3).name = 'batch_normalization/gamma';
      }),
      'tensor name "batch_normalization/gamma" appears twice',
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => readModelFile(bytes)).toThrow(ModelFileError);
      expect(() => readModelFile(bytes)).toThrow(message);
    });
  }

  it('accepts the unmodified fixture through the same rewriting (the corpus changes one thing each)', () => {
    expect(readModelFile(withHeader(fixture, () => undefined)).tensors).toHaveLength(6);
  });

  it('never reads past the buffer for any truncation of the fixture', () => {
    for (let n = 0; n < fixture.length; n++) {
      expect(() => readModelFile(fixture.subarray(0, n))).toThrow(ModelFileError);
    }
  });
});

describe('writeModelFile refuses contents it cannot store faithfully', () => {
  const t = (data: Float32Array, extra: Partial<ModelTensor> = {}): ModelTensor => ({
    name: 'w',
    shape: [data.length],
    data,
    ...extra,
  });
  const cases: [string, ModelFileContents, string][] = [
    [
      'NaN weights',
      { layers: [], tensors: [t(Float32Array.of(1, Number.NaN))] },
      'tensor w: element 1 is NaN; weights must be finite',
    ],
    [
      'float16 overflow',
      { layers: [], tensors: [t(Float32Array.of(1e5), { dtype: 'float16' })] },
      'tensor w: element 0 = 100000 is beyond the float16 range (±65504)',
    ],
    [
      'shape/data mismatch',
      { layers: [], tensors: [{ name: 'w', shape: [2, 2], data: new Float32Array(3) }] },
      'tensor w: shape [2, 2] needs 4 float32 values, got 3',
    ],
    [
      'unknown dtype',
      { layers: [], tensors: [t(new Float32Array(1), { dtype: 'bfloat16' as StorageDType })] },
      'tensor w: unknown dtype "bfloat16"',
    ],
    [
      'duplicate names',
      { layers: [], tensors: [t(new Float32Array(1)), t(new Float32Array(1))] },
      'tensor name "w" appears twice',
    ],
    [
      'reserved extra key',
      { layers: [], tensors: [], extra: { tensors: [] } },
      'extra may not set "tensors": the container writes it',
    ],
    ['layers not a list', { layers: {} as never, tensors: [] }, 'layers must be an array'],
  ];
  for (const [what, contents, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => writeModelFile(contents)).toThrow(ModelFileError);
      expect(() => writeModelFile(contents)).toThrow(message);
    });
  }
});
