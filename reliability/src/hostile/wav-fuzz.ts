/**
 * A structure-aware WAV mutation fuzzer (fast-check), for the hostile-input tests (issue #7): valid seed files
 * of every format the decoder claims (8/16/24/32-bit integer, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, mono
 * to 5 channels, 8–96 kHz, extra chunks before and after the data), and mutations that target what a WAV
 * decoder trusts: chunk and RIFF sizes (huge, zero, off by a few), fmt fields (codec, channels, rate, block
 * align, bits, extension), chunk ids, truncation, splices, bit flips, duplicated and deleted chunks, and runs
 * of samples at the edges of their format (float32 ±max, ±Inf, NaN, integer rails).
 *
 * A case is data (`FuzzCase`): fast-check shrinks a failure to the fewest mutations, and a seed reproduces
 * the whole run.
 */
import fc from 'fast-check';
import { speechLike } from '../../../apps/api/test/audio.ts';
import { chunk, concat, type SampleFormat, wavFile } from '../../../packages/audio/test/wav-builder.ts';

export interface SeedWav {
  name: string;
  bytes: Uint8Array;
}

/** Seconds of speech-like audio in each seed: long enough to pass the upload's checks (0.3–5 s, speech). */
const SEED_DURATION_S = 0.45;

/** Full-scale codes of each format for a signal in [-1, 1]. */
function codes(format: SampleFormat, signal: Float32Array): number[] {
  const scale = { pcm8: 127, pcm16: 32767, pcm24: 8_388_607, pcm32: 2_147_483_647 } as const;
  return Array.from(signal, (v) => {
    if (format === 'float32' || format === 'float64') return v;
    const code = Math.round(v * scale[format]);
    return format === 'pcm8' ? code + 128 : code;
  });
}

function interleave(mono: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(mono.length * channels);
  for (let i = 0; i < mono.length; i++) {
    // Channels differ a little, so a downmix bug would show.
    for (let c = 0; c < channels; c++) out[i * channels + c] = mono[i] * (1 - 0.1 * c);
  }
  return out;
}

const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** The valid files mutations start from; each decodes and passes the upload's quality checks unmutated. */
export function seedWavs(): SeedWav[] {
  const specs: {
    format: SampleFormat;
    channels: number;
    rate: number;
    extensible?: boolean;
    before?: Uint8Array[];
    after?: Uint8Array[];
  }[] = [
    { format: 'pcm8', channels: 1, rate: 8000 },
    { format: 'pcm16', channels: 1, rate: 16_000 },
    {
      format: 'pcm16',
      channels: 2,
      rate: 44_100,
      before: [chunk('LIST', bytesOf('INFOISFT\x05\x00\x00\x00kws!\x00')), chunk('JUNK', new Uint8Array(5))],
    },
    { format: 'pcm24', channels: 2, rate: 48_000, extensible: true },
    {
      format: 'pcm32',
      channels: 1,
      rate: 22_050,
      before: [chunk('fact', new Uint8Array(4))],
      after: [chunk('id3 ', new Uint8Array(7))],
    },
    { format: 'float32', channels: 1, rate: 11_025 },
    { format: 'float32', channels: 2, rate: 32_000, extensible: true },
    { format: 'float64', channels: 1, rate: 12_000 },
    { format: 'pcm16', channels: 5, rate: 16_000 },
  ];
  return specs.map((s) => {
    const mono = speechLike(SEED_DURATION_S, { sampleRate: s.rate, seed: s.rate + s.channels });
    const name = `${s.format}-${s.channels}ch-${s.rate}${s.extensible ? '-ext' : ''}${s.before || s.after ? '-chunks' : ''}`;
    const bytes = wavFile(s.format, s.channels, s.rate, codes(s.format, interleave(mono, s.channels)), {
      extensible: s.extensible,
      before: s.before,
      after: s.after,
    });
    return { name, bytes };
  });
}

/** fmt body fields by offset and width (the extensible ones only mean something when the tag is 0xFFFE). */
const FMT_FIELDS = {
  tag: { at: 0, width: 2, interesting: [0, 1, 2, 3, 6, 7, 0x11, 0x55, 0xfffe, 0xffff] },
  channels: { at: 2, width: 2, interesting: [0, 1, 2, 3, 8, 255, 256, 0x7fff, 0xffff] },
  sampleRate: {
    at: 4,
    width: 4,
    interesting: [0, 1, 7999, 8000, 8001, 16_000, 44_101, 191_999, 192_000, 192_001, 0x7fffffff, 0xffffffff],
  },
  byteRate: { at: 8, width: 4, interesting: [0, 1, 0xffffffff] },
  blockAlign: { at: 12, width: 2, interesting: [0, 1, 2, 3, 4, 6, 8, 0x8000, 0xffff] },
  bits: { at: 14, width: 2, interesting: [0, 1, 4, 7, 8, 12, 16, 20, 24, 32, 48, 64, 0xffff] },
  cbSize: { at: 16, width: 2, interesting: [0, 21, 22, 0xffff] },
  validBits: { at: 18, width: 2, interesting: [0, 8, 16, 24, 32, 64, 0xffff] },
  subformat: { at: 24, width: 2, interesting: [0, 1, 2, 3, 6, 0xffff] },
} as const;
type FmtField = keyof typeof FMT_FIELDS;

/** Declared sizes a decoder must not trust: empty, tiny, sign-bit, and just below 4 GB. */
const INTERESTING_SIZES = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 40, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff,
];
/** Little-endian sample values at the edges of each format: float32 ±max, ±Inf, NaN, int16 rails, 8-bit mid. */
const SAMPLE_PATTERNS = [
  [0xff, 0xff, 0x7f, 0x7f],
  [0xff, 0xff, 0x7f, 0xff],
  [0x00, 0x00, 0x80, 0x7f],
  [0x00, 0x00, 0xc0, 0x7f],
  [0xff, 0x7f, 0xff, 0x7f],
  [0x00, 0x80, 0x00, 0x80],
  [0x80, 0x80, 0x80, 0x80],
  [0x00, 0x00, 0x00, 0x00],
] as const;
const CHUNK_IDS = [
  'fmt ',
  'data',
  'LIST',
  'JUNK',
  'fact',
  'FMT ',
  'DATA',
  'RIFF',
  '\0\0\0\0',
  '\xff\xff\xff\xff',
];

export type Mutation =
  /** Sets the RIFF size (chunk -1) or the size of the n-th chunk (modulo the chunk count). */
  | { kind: 'size'; chunk: number; value: number }
  /** Moves a size by a few bytes: the off-by-one family. */
  | { kind: 'sizeDelta'; chunk: number; delta: number }
  | { kind: 'fmt'; field: FmtField; value: number }
  | { kind: 'chunkId'; chunk: number; id: string }
  | { kind: 'truncate'; at: number }
  /** Inserts `length` bytes of seed `from` (at byte `source`) at byte `at`. */
  | { kind: 'splice'; at: number; from: number; source: number; length: number }
  | { kind: 'bitflip'; at: number; bit: number }
  | { kind: 'overwrite'; at: number; bytes: number[] }
  | { kind: 'duplicateChunk'; chunk: number; to: number }
  | { kind: 'deleteChunk'; chunk: number }
  | { kind: 'deleteRange'; at: number; length: number }
  | { kind: 'append'; bytes: number[] }
  /** Overwrites `length` bytes from byte `at` (rounded down to 4) with a repeated 4-byte sample pattern. */
  | { kind: 'fill'; at: number; length: number; pattern: readonly number[] };

export interface FuzzCase {
  seed: number;
  mutations: Mutation[];
}

interface ChunkAt {
  offset: number;
  /** Header plus body plus pad byte, clipped to the file. */
  length: number;
}

/** A lenient chunk walk (never throws): where the chunk headers are, as far as the bytes allow. */
function chunksOf(bytes: Uint8Array): ChunkAt[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ChunkAt[] = [];
  let pos = 12;
  while (pos + 8 <= bytes.length && out.length < 64) {
    const size = view.getUint32(pos + 4, true);
    const length = Math.min(8 + size + (size & 1), bytes.length - pos);
    out.push({ offset: pos, length });
    pos += length;
  }
  return out;
}

function setUint(bytes: Uint8Array, at: number, width: number, value: number): void {
  if (at < 0 || at + width > bytes.length) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 2) view.setUint16(at, value & 0xffff, true);
  else view.setUint32(at, value >>> 0, true);
}

/** Where the size field of chunk `n` is (n = -1: the RIFF size). */
function sizeOffset(bytes: Uint8Array, n: number): number {
  if (n < 0) return 4;
  const chunks = chunksOf(bytes);
  return chunks.length === 0 ? 4 : chunks[n % chunks.length].offset + 4;
}

function fmtBodyOffset(bytes: Uint8Array): number {
  const fmt = chunksOf(bytes).find(
    (c) => String.fromCharCode(...bytes.subarray(c.offset, c.offset + 4)) === 'fmt ',
  );
  return fmt ? fmt.offset + 8 : -1;
}

export function applyMutation(bytes: Uint8Array, m: Mutation, seeds: readonly SeedWav[]): Uint8Array {
  const n = bytes.length;
  const pos = (at: number) => (n === 0 ? 0 : at % (n + 1));
  switch (m.kind) {
    case 'size': {
      const out = bytes.slice();
      setUint(out, sizeOffset(out, m.chunk), 4, m.value);
      return out;
    }
    case 'sizeDelta': {
      const out = bytes.slice();
      const at = sizeOffset(out, m.chunk);
      if (at + 4 <= n) setUint(out, at, 4, new DataView(out.buffer).getUint32(at, true) + m.delta);
      return out;
    }
    case 'fmt': {
      const out = bytes.slice();
      const body = fmtBodyOffset(out);
      const field = FMT_FIELDS[m.field];
      if (body >= 0) setUint(out, body + field.at, field.width, m.value);
      return out;
    }
    case 'chunkId': {
      const chunks = chunksOf(bytes);
      if (chunks.length === 0) return bytes;
      const out = bytes.slice();
      const at = chunks[m.chunk % chunks.length].offset;
      for (let i = 0; i < 4; i++) out[at + i] = m.id.charCodeAt(i) & 0xff;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, pos(m.at));
    case 'splice': {
      const from = seeds[m.from % seeds.length].bytes;
      const start = m.source % from.length;
      const at = pos(m.at);
      return concat([bytes.subarray(0, at), from.subarray(start, start + m.length), bytes.subarray(at)]);
    }
    case 'bitflip': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[m.at % n] ^= 1 << m.bit;
      return out;
    }
    case 'overwrite': {
      const out = bytes.slice();
      const at = pos(m.at);
      m.bytes.forEach((b, i) => {
        if (at + i < n) out[at + i] = b;
      });
      return out;
    }
    case 'duplicateChunk': {
      const chunks = chunksOf(bytes);
      if (chunks.length === 0) return bytes;
      const c = chunks[m.chunk % chunks.length];
      const copy = bytes.subarray(c.offset, c.offset + c.length);
      const at = m.to % (chunks.length + 1) === chunks.length ? n : chunks[m.to % (chunks.length + 1)].offset;
      return concat([bytes.subarray(0, at), copy, bytes.subarray(at)]);
    }
    case 'deleteChunk': {
      const chunks = chunksOf(bytes);
      if (chunks.length === 0) return bytes;
      const c = chunks[m.chunk % chunks.length];
      return concat([bytes.subarray(0, c.offset), bytes.subarray(c.offset + c.length)]);
    }
    case 'deleteRange': {
      const at = pos(m.at);
      return concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    }
    case 'append':
      return concat([bytes, Uint8Array.from(m.bytes)]);
    case 'fill': {
      const out = bytes.slice();
      const at = pos(m.at) & ~3;
      for (let i = 0; i < m.length && at + i < n; i++) out[at + i] = m.pattern[i % 4];
      return out;
    }
  }
}

export function applyCase(c: FuzzCase, seeds: readonly SeedWav[]): Uint8Array {
  let bytes = seeds[c.seed % seeds.length].bytes;
  for (const m of c.mutations) bytes = applyMutation(bytes, m, seeds);
  return bytes;
}

/** Positions biased to the first 128 bytes, where every header lives. */
const position = fc.oneof({ weight: 3, arbitrary: fc.nat(128) }, { weight: 1, arbitrary: fc.nat() });
const chunkIndex = fc.integer({ min: -1, max: 7 });
const byte = fc.nat(255);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('size' as const),
    chunk: chunkIndex,
    value: fc.oneof(fc.constantFrom(...INTERESTING_SIZES), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({
    kind: fc.constant('sizeDelta' as const),
    chunk: chunkIndex,
    delta: fc.integer({ min: -9, max: 9 }),
  }),
  fc.constantFrom(...(Object.keys(FMT_FIELDS) as FmtField[])).chain((field) =>
    fc.record({
      kind: fc.constant('fmt' as const),
      field: fc.constant(field),
      value: fc.oneof(
        fc.constantFrom(...FMT_FIELDS[field].interesting),
        fc.nat({ max: FMT_FIELDS[field].width === 2 ? 0xffff : 0xffffffff }),
      ),
    }),
  ),
  fc.record({ kind: fc.constant('chunkId' as const), chunk: fc.nat(7), id: fc.constantFrom(...CHUNK_IDS) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: position,
    from: fc.nat(15),
    source: fc.nat(200),
    length: fc.nat(64),
  }),
  fc.record({ kind: fc.constant('bitflip' as const), at: position, bit: fc.nat(7) }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: position,
    bytes: fc.array(byte, { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('duplicateChunk' as const), chunk: fc.nat(7), to: fc.nat(8) }),
  fc.record({ kind: fc.constant('deleteChunk' as const), chunk: fc.nat(7) }),
  fc.record({ kind: fc.constant('deleteRange' as const), at: position, length: fc.nat(64) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.array(byte, { maxLength: 32 }) }),
  fc.record({
    kind: fc.constant('fill' as const),
    at: fc.nat(),
    length: fc.integer({ min: 4, max: 8192 }),
    pattern: fc.constantFrom(...SAMPLE_PATTERNS),
  }),
);

/** A seed index and 1–4 mutations applied in order. */
export function fuzzCase(seedCount: number): fc.Arbitrary<FuzzCase> {
  return fc.record({
    seed: fc.nat(seedCount - 1),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  });
}
