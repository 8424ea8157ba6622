/**
 * The `.kws` model container (DESIGN §3), a file a device can load without our code:
 *
 *   bytes 0..3   "KWS1"
 *   bytes 4..7   uint32 little-endian header length H (the JSON bytes only, not the padding)
 *   bytes 8..    H bytes of UTF-8 JSON: { format_version, ...extra fields, layers, tensors }
 *   zero padding up to D = the next multiple of 16 at or after 8 + H (the data section)
 *   tensor bytes: tensor i occupies [D + offset_i, D + offset_i + length_i), offset_i a multiple of 16
 *
 * Each `tensors` entry is `{ name, dtype, shape, offset, length, scale? }`, little-endian, row-major:
 * `float32` (4 bytes), `float16` (IEEE half, 2 bytes; written with round-to-nearest-even) or `int8` (1 byte,
 * symmetric per tensor: value = scale · q with q in [−127, 127] and scale = max|x| / 127 rounded to float32).
 * Tensors come in Keras `get_weights()` order. `layers` is the Keras Sequential layer list. Every other
 * header field (`keyword`, `created_at`, `feature_config`, `threshold`, `smoothing`, `metrics`,
 * `base_model_sha256`...) belongs to the caller and is passed through untouched as `extra`.
 */
import type { LayerSpec } from '../layers/layer.ts';
import { formatShape, sizeOf } from '../tensor.ts';

export const MODEL_FILE_MAGIC = 'KWS1';
export const MODEL_FILE_FORMAT_VERSION = 1;
/** Alignment of the data section and of every tensor offset. */
export const MODEL_FILE_ALIGNMENT = 16;

export type StorageDType = 'float32' | 'float16' | 'int8';
const BYTES_PER_ELEMENT: Record<StorageDType, number> = { float32: 4, float16: 2, int8: 1 };
/** Header keys the container owns; `extra` may not use them. */
const RESERVED_KEYS = ['format_version', 'layers', 'tensors'];
const PREAMBLE_BYTES = 8;
const INT8_MAX = 127;

/** Thrown for a model file that cannot be read, or contents that cannot be written. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** One weight tensor. */
export interface ModelTensor {
  /** Unique within the file, e.g. `lstm/recurrent_kernel`. */
  name: string;
  shape: readonly number[];
  /** Row-major values (decoded to float32 when read). */
  data: Float32Array;
  /** Storage type of this tensor; overrides the file-wide `dtype`. Set on every tensor read back. */
  dtype?: StorageDType;
  /** int8 tensors read back: the dequantization factor (value = scale · q). */
  scale?: number;
}

export interface ModelFileContents {
  /** Keras Sequential layer list, `[{ class_name, config }, ...]`. */
  layers: LayerSpec[];
  /** In Keras `get_weights()` order. */
  tensors: ModelTensor[];
  /** Storage type of tensors that do not set their own. Default `float32`. */
  dtype?: StorageDType;
  /** Other header fields, written and read back untouched (JSON values). */
  extra?: Record<string, unknown>;
}

interface TensorEntry {
  name: string;
  dtype: StorageDType;
  shape: number[];
  offset: number;
  length: number;
  scale?: number;
}

function align(n: number): number {
  return Math.ceil(n / MODEL_FILE_ALIGNMENT) * MODEL_FILE_ALIGNMENT;
}

function isStorageDType(x: unknown): x is StorageDType {
  return x === 'float32' || x === 'float16' || x === 'int8';
}

function checkLayers(layers: unknown): asserts layers is LayerSpec[] {
  if (!Array.isArray(layers))
    throw new ModelFileError(`layers must be an array of {class_name, config}, got ${typeof layers}`);
  layers.forEach((l, i) => {
    if (l === null || typeof l !== 'object' || typeof l.class_name !== 'string') {
      throw new ModelFileError(`layers[${i}] must be an object with a string class_name`);
    }
    if (
      l.config !== undefined &&
      (l.config === null || typeof l.config !== 'object' || Array.isArray(l.config))
    ) {
      throw new ModelFileError(`layers[${i}] (${l.class_name}) config must be an object`);
    }
  });
}

/** Serializes a model into the `.kws` container. */
export function writeModelFile(contents: ModelFileContents): Uint8Array {
  checkLayers(contents.layers);
  if (!Array.isArray(contents.tensors)) throw new ModelFileError('tensors must be an array');
  const fileDType = contents.dtype ?? 'float32';
  if (!isStorageDType(fileDType))
    throw new ModelFileError(`unknown dtype "${fileDType}"; expected float32, float16 or int8`);
  const extra = contents.extra ?? {};
  for (const key of RESERVED_KEYS) {
    if (Object.hasOwn(extra, key))
      throw new ModelFileError(`extra may not set "${key}": the container writes it`);
  }

  const names = new Set<string>();
  const entries: TensorEntry[] = [];
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const t of contents.tensors) {
    if (typeof t.name !== 'string' || t.name === '')
      throw new ModelFileError('every tensor needs a non-empty name');
    if (names.has(t.name)) throw new ModelFileError(`tensor name "${t.name}" appears twice`);
    names.add(t.name);
    const dtype = t.dtype ?? fileDType;
    if (!isStorageDType(dtype)) {
      throw new ModelFileError(
        `tensor ${t.name}: unknown dtype "${dtype}"; expected float32, float16 or int8`,
      );
    }
    let n: number;
    try {
      n = sizeOf(t.shape);
    } catch (e) {
      throw new ModelFileError(`tensor ${t.name}: ${(e as Error).message}`);
    }
    if (!(t.data instanceof Float32Array) || t.data.length !== n) {
      throw new ModelFileError(
        `tensor ${t.name}: shape ${formatShape(t.shape)} needs ${n} float32 values, got ${t.data?.length ?? 'none'}`,
      );
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new ModelFileError(`tensor ${t.name}: element ${bad} is ${t.data[bad]}; weights must be finite`);
    const { bytes, scale } = encodeTensor(t.name, t.data, dtype);
    const entry: TensorEntry = { name: t.name, dtype, shape: [...t.shape], offset, length: bytes.length };
    if (scale !== undefined) entry.scale = scale;
    entries.push(entry);
    payloads.push(bytes);
    offset = align(offset + bytes.length);
  }

  const header = {
    format_version: MODEL_FILE_FORMAT_VERSION,
    ...extra,
    layers: contents.layers,
    tensors: entries,
  };
  let json: string;
  try {
    json = JSON.stringify(header);
  } catch (e) {
    throw new ModelFileError(`header is not serializable as JSON: ${(e as Error).message}`);
  }
  const headerBytes = new TextEncoder().encode(json);
  const dataStart = align(PREAMBLE_BYTES + headerBytes.length);
  const last = entries[entries.length - 1];
  const out = new Uint8Array(dataStart + (last ? last.offset + last.length : 0));
  for (let i = 0; i < 4; i++) out[i] = MODEL_FILE_MAGIC.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, headerBytes.length, true);
  out.set(headerBytes, PREAMBLE_BYTES);
  entries.forEach((e, i) => {
    out.set(payloads[i], dataStart + e.offset);
  });
  return out;
}

/** Parses and validates a `.kws` file; tensors come back decoded to float32 with their storage dtype. */
export function readModelFile(bytes: Uint8Array): ModelFileContents & { extra: Record<string, unknown> } {
  if (bytes.length < PREAMBLE_BYTES) {
    throw new ModelFileError(
      `truncated header: the file has ${bytes.length} bytes but the magic and header length need ${PREAMBLE_BYTES}`,
    );
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MODEL_FILE_MAGIC) {
    const hex = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ModelFileError(`wrong magic: expected "${MODEL_FILE_MAGIC}" (4b 57 53 31), got ${hex}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (headerLength > bytes.length - PREAMBLE_BYTES) {
    throw new ModelFileError(
      `header length ${headerLength} runs past the end of the file: only ${bytes.length - PREAMBLE_BYTES} bytes follow the preamble`,
    );
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength),
    );
    header = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new ModelFileError('header must be a JSON object');
  }
  const h = header as Record<string, unknown>;
  for (const key of RESERVED_KEYS) {
    if (!Object.hasOwn(h, key)) throw new ModelFileError(`header is missing the field "${key}"`);
  }
  if (h.format_version !== MODEL_FILE_FORMAT_VERSION) {
    throw new ModelFileError(
      `unsupported format_version ${JSON.stringify(h.format_version)}; this reader knows ${MODEL_FILE_FORMAT_VERSION}`,
    );
  }
  checkLayers(h.layers);
  if (!Array.isArray(h.tensors)) throw new ModelFileError('header field "tensors" must be an array');

  const dataStart = align(PREAMBLE_BYTES + headerLength);
  const dataBytes = Math.max(0, bytes.length - dataStart);
  const entries = h.tensors.map((raw, i) => checkEntry(raw, i, dataBytes));
  checkDisjoint(entries);

  const tensors: ModelTensor[] = entries.map((e) => {
    const data = decodeTensor(view, dataStart + e.offset, e);
    const t: ModelTensor = { name: e.name, shape: e.shape, data, dtype: e.dtype };
    if (e.scale !== undefined) t.scale = e.scale;
    return t;
  });
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) if (!RESERVED_KEYS.includes(k)) extra[k] = v;
  return { layers: h.layers, tensors, extra };
}

function checkEntry(raw: unknown, i: number, dataBytes: number): TensorEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelFileError(`tensors[${i}] must be an object`);
  }
  const r = raw as Record<string, unknown>;
  const what = typeof r.name === 'string' ? `tensor ${r.name}` : `tensors[${i}]`;
  for (const key of ['name', 'dtype', 'shape', 'offset', 'length']) {
    if (!Object.hasOwn(r, key)) throw new ModelFileError(`${what} is missing the field "${key}"`);
  }
  if (typeof r.name !== 'string' || r.name === '')
    throw new ModelFileError(`tensors[${i}] name must be a non-empty string`);
  if (!isStorageDType(r.dtype)) {
    throw new ModelFileError(
      `${what}: unknown dtype ${JSON.stringify(r.dtype)}; expected float32, float16 or int8`,
    );
  }
  const shape = r.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelFileError(
      `${what}: shape must be an array of integers >= 0, got ${JSON.stringify(shape)}`,
    );
  }
  const { offset, length } = r;
  if (!Number.isInteger(offset) || (offset as number) < 0) {
    throw new ModelFileError(`${what}: offset must be an integer >= 0, got ${JSON.stringify(offset)}`);
  }
  if (!Number.isInteger(length) || (length as number) < 0) {
    throw new ModelFileError(`${what}: length must be an integer >= 0, got ${JSON.stringify(length)}`);
  }
  const off = offset as number;
  const len = length as number;
  if (off % MODEL_FILE_ALIGNMENT !== 0) {
    throw new ModelFileError(
      `${what}: offset ${off} is misaligned; offsets must be multiples of ${MODEL_FILE_ALIGNMENT}`,
    );
  }
  if (off + len > dataBytes) {
    throw new ModelFileError(
      `${what}: bytes [${off}, ${off + len}) are out of range; the data section has ${dataBytes} bytes`,
    );
  }
  const expected = sizeOf(shape) * BYTES_PER_ELEMENT[r.dtype];
  if (len !== expected) {
    throw new ModelFileError(
      `${what}: length ${len} does not match shape ${formatShape(shape)} × ${r.dtype} (${expected} bytes)`,
    );
  }
  const entry: TensorEntry = { name: r.name, dtype: r.dtype, shape, offset: off, length: len };
  if (r.dtype === 'int8') {
    if (typeof r.scale !== 'number' || !Number.isFinite(r.scale) || r.scale <= 0) {
      throw new ModelFileError(
        `${what}: int8 needs a finite scale > 0, got ${JSON.stringify(r.scale ?? null)}`,
      );
    }
    entry.scale = r.scale;
  } else if (r.scale !== undefined) {
    throw new ModelFileError(`${what}: scale is only meaningful for int8, but dtype is ${r.dtype}`);
  }
  return entry;
}

function checkDisjoint(entries: TensorEntry[]): void {
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new ModelFileError(`tensor name "${e.name}" appears twice`);
    names.add(e.name);
  }
  const sorted = entries.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.length) {
      throw new ModelFileError(`tensor ${sorted[i].name} overlaps tensor ${prev.name}`);
    }
  }
}

function encodeTensor(
  name: string,
  data: Float32Array,
  dtype: StorageDType,
): { bytes: Uint8Array; scale?: number } {
  const bytes = new Uint8Array(data.length * BYTES_PER_ELEMENT[dtype]);
  const view = new DataView(bytes.buffer);
  if (dtype === 'float32') {
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
    return { bytes };
  }
  if (dtype === 'float16') {
    for (let i = 0; i < data.length; i++) {
      const h = float32ToFloat16Bits(data[i]);
      if ((h & 0x7c00) === 0x7c00) {
        throw new ModelFileError(
          `tensor ${name}: element ${i} = ${data[i]} is beyond the float16 range (±65504)`,
        );
      }
      view.setUint16(2 * i, h, true);
    }
    return { bytes };
  }
  let maxAbs = 0;
  for (let i = 0; i < data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]));
  // An all-zero tensor still needs a valid (positive) scale; every q is 0 anyway.
  const scale = maxAbs === 0 ? 1 : Math.fround(maxAbs / INT8_MAX);
  for (let i = 0; i < data.length; i++) {
    const x = data[i] / scale;
    // Round half away from zero, so quantization is symmetric around 0.
    const q = Math.min(INT8_MAX, Math.round(Math.abs(x))) * Math.sign(x);
    view.setInt8(i, q);
  }
  return { bytes, scale };
}

function decodeTensor(view: DataView, start: number, e: TensorEntry): Float32Array {
  const n = sizeOf(e.shape);
  const out = new Float32Array(n);
  if (e.dtype === 'float32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(start + 4 * i, true);
  else if (e.dtype === 'float16')
    for (let i = 0; i < n; i++) out[i] = float16BitsToNumber(view.getUint16(start + 2 * i, true));
  else {
    const scale = e.scale as number;
    for (let i = 0; i < n; i++) out[i] = scale * view.getInt8(start + i);
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a float32 value, rounding to nearest even; NaN stays NaN, overflow gives ±Inf. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the 24-bit significand shifted right by 14 − e, rounded to nearest even.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const kept = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept);
  }
  const h = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  return rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1) ? h + 1 : h;
}

/** The value of IEEE 754 binary16 bits. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
