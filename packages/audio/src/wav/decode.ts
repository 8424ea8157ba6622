/**
 * A strict RIFF/WAVE reader: integer PCM (8/16/24/32-bit), IEEE float (32/64-bit) and WAVE_FORMAT_EXTENSIBLE
 * holding either, any channel count, 8 000–192 000 Hz. Every size field is checked against the bytes that
 * are actually there before anything is read, so a hostile file can make it throw but never read out of
 * bounds. Anything it cannot decode exactly throws an `AudioFormatError` naming the problem.
 */
import { AudioFormatError } from '../errors.ts';

export interface DecodedAudio {
  sampleRate: number;
  channels: number;
  /** [frames, channels], interleaved as in the file; integer PCM scaled to [-1, 1), floats as stored. */
  samples: Float32Array;
}

export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 192_000;

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

const CODEC_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'µ-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MPEG layer 3',
  255: 'AAC',
  61868: 'FLAC',
};

/** Bytes 2…15 of every KSDATAFORMAT_SUBTYPE_* GUID {000000xx-0000-0010-8000-00AA00389B71} as stored. */
const SUBTYPE_GUID_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

const PCM_BITS = [8, 16, 24, 32];
const FLOAT_BITS = [32, 64];

interface Chunk {
  id: string;
  offset: number;
  /** Start of the chunk body. */
  start: number;
  size: number;
}

interface Format {
  codec: typeof FORMAT_PCM | typeof FORMAT_FLOAT;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

export function decodeWav(bytes: Uint8Array): DecodedAudio {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`decodeWav expects a Uint8Array, got ${describeValue(bytes)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { fmt, data } = readChunks(bytes, view);
  const format = parseFormat(bytes, view, fmt);
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    samples: readSamples(view, data, format),
  };
}

function readChunks(bytes: Uint8Array, view: DataView): { fmt: Chunk; data: Chunk } {
  const length = bytes.length;
  if (length < 12) {
    throw new AudioFormatError(
      'TRUNCATED',
      `WAV header truncated: the file is ${length} bytes, a RIFF/WAVE header needs 12`,
    );
  }
  const magic = fourcc(bytes, 0);
  if (magic === 'RIFX')
    throw new AudioFormatError('BAD_MAGIC', 'big-endian RIFX WAV files are not supported');
  if (magic === 'RF64')
    throw new AudioFormatError('BAD_MAGIC', 'RF64 (64-bit size) WAV files are not supported');
  if (magic !== 'RIFF') {
    throw new AudioFormatError(
      'BAD_MAGIC',
      `not a WAV file: it starts with ${quote(bytes, 0)}, expected "RIFF"`,
    );
  }
  const form = fourcc(bytes, 8);
  if (form !== 'WAVE') {
    throw new AudioFormatError('BAD_MAGIC', `RIFF form type is ${quote(bytes, 8)}, expected "WAVE"`);
  }
  const riffSize = view.getUint32(4, true);
  if (riffSize < 4) {
    throw new AudioFormatError(
      'BAD_CHUNK',
      `RIFF size is ${riffSize} bytes, too small for the "WAVE" form type`,
    );
  }
  // Bytes after the RIFF chunk are not part of the file's audio; a RIFF size beyond the end is checked below,
  // after the chunk walk, so a truncated data chunk is reported as such.
  const riffEnd = 8 + riffSize;
  const end = Math.min(riffEnd, length);

  let fmt: Chunk | undefined;
  let data: Chunk | undefined;
  let pos = 12;
  while (pos < end) {
    if (end - pos < 8) {
      throw new AudioFormatError(
        'TRUNCATED',
        `WAV chunk header at offset ${pos} truncated: ${end - pos} bytes left, a chunk header needs 8`,
      );
    }
    if (!isChunkId(bytes, pos)) {
      throw new AudioFormatError(
        'BAD_CHUNK',
        `WAV chunk at offset ${pos} has an invalid id ${quote(bytes, pos)}, expected 4 ASCII characters ` +
          '(an odd-sized chunk before it may lack its pad byte)',
      );
    }
    const chunk: Chunk = {
      id: fourcc(bytes, pos),
      offset: pos,
      start: pos + 8,
      size: view.getUint32(pos + 4, true),
    };
    const remain = end - chunk.start;
    if (chunk.size > remain) {
      throw new AudioFormatError(
        'TRUNCATED',
        `WAV ${chunk.id.trim()} chunk says ${chunk.size} bytes but only ${remain} remain`,
      );
    }
    if (chunk.id === 'fmt ') {
      if (fmt)
        throw new AudioFormatError('BAD_CHUNK', `second fmt chunk at offset ${pos}; expected exactly one`);
      if (data) {
        throw new AudioFormatError(
          'CHUNK_ORDER',
          `fmt chunk at offset ${pos} comes after the data chunk at offset ${data.offset}; expected fmt first`,
        );
      }
      fmt = chunk;
    } else if (chunk.id === 'data') {
      if (data)
        throw new AudioFormatError('BAD_CHUNK', `second data chunk at offset ${pos}; expected exactly one`);
      data = chunk;
    }
    // RIFF pads odd-sized chunks to an even length; a missing pad byte after the last chunk is harmless.
    if (chunk.size & 1) checkPadByte(bytes, chunk, end);
    pos = Math.min(chunk.start + chunk.size + (chunk.size & 1), end);
  }

  if (!fmt) throw new AudioFormatError('MISSING_CHUNK', 'WAV file has no fmt chunk');
  if (!data) throw new AudioFormatError('MISSING_CHUNK', 'WAV file has no data chunk');
  if (riffEnd > length) {
    throw new AudioFormatError(
      'TRUNCATED',
      `RIFF header says the file is ${riffEnd} bytes but it is only ${length} (truncated)`,
    );
  }
  return { fmt, data };
}

const KNOWN_CHUNK_IDS = new Set([
  'fmt ',
  'data',
  'LIST',
  'fact',
  'cue ',
  'bext',
  'id3 ',
  'JUNK',
  'PAD ',
  'smpl',
]);

/**
 * Some writers forget the pad byte after an odd-sized chunk, which shifts every later chunk by one. Name
 * that mistake instead of reporting the garbage the shifted walk would read next.
 */
function checkPadByte(bytes: Uint8Array, chunk: Chunk, end: number): void {
  const unpadded = chunk.start + chunk.size;
  if (unpadded + 5 > end) return;
  if (KNOWN_CHUNK_IDS.has(fourcc(bytes, unpadded)) && !KNOWN_CHUNK_IDS.has(fourcc(bytes, unpadded + 1))) {
    throw new AudioFormatError(
      'BAD_CHUNK',
      `odd-sized WAV ${chunk.id.trim()} chunk at offset ${chunk.offset} (${chunk.size} bytes) lacks its pad byte: ` +
        `the ${quote(bytes, unpadded)} chunk starts right after it`,
    );
  }
}

function parseFormat(bytes: Uint8Array, view: DataView, fmt: Chunk): Format {
  const at = fmt.start;
  if (fmt.size < 16) {
    throw new AudioFormatError('BAD_CHUNK', `fmt chunk is ${fmt.size} bytes, expected at least 16`);
  }
  let codec = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);

  if (codec === FORMAT_EXTENSIBLE) {
    if (fmt.size < 40) {
      throw new AudioFormatError(
        'BAD_CHUNK',
        `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${fmt.size} bytes, expected at least 40`,
      );
    }
    const extensionSize = view.getUint16(at + 16, true);
    if (extensionSize < 22) {
      throw new AudioFormatError(
        'BAD_CHUNK',
        `WAVE_FORMAT_EXTENSIBLE extension is ${extensionSize} bytes, expected at least 22`,
      );
    }
    const validBits = view.getUint16(at + 18, true);
    if (validBits > bits) {
      throw new AudioFormatError(
        'BAD_CHUNK',
        `WAVE_FORMAT_EXTENSIBLE says ${validBits} valid bits in a ${bits}-bit container`,
      );
    }
    const guid = at + 24;
    if (SUBTYPE_GUID_TAIL.some((byte, i) => bytes[guid + 2 + i] !== byte)) {
      throw new AudioFormatError(
        'UNSUPPORTED_CODEC',
        `WAVE_FORMAT_EXTENSIBLE subformat ${formatGuid(bytes, guid)} is not a KSDATAFORMAT_SUBTYPE GUID; ` +
          'expected PCM {00000001-0000-0010-8000-00AA00389B71} or IEEE float {00000003-…}',
      );
    }
    codec = view.getUint16(guid, true);
  }
  if (codec !== FORMAT_PCM && codec !== FORMAT_FLOAT) {
    const name = CODEC_NAMES[codec] ? ` (${CODEC_NAMES[codec]})` : '';
    throw new AudioFormatError(
      'UNSUPPORTED_CODEC',
      `unsupported WAV codec: format tag 0x${hex4(codec)}${name}; expected PCM (0x0001) or IEEE float (0x0003)`,
    );
  }
  if (channels === 0)
    throw new AudioFormatError('BAD_CHANNELS', 'fmt chunk says 0 channels, expected at least 1');
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new AudioFormatError(
      'BAD_SAMPLE_RATE',
      `sample rate ${sampleRate} Hz is out of range, expected ${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz`,
    );
  }
  if (codec === FORMAT_PCM && !PCM_BITS.includes(bits)) {
    throw new AudioFormatError(
      'UNSUPPORTED_BIT_DEPTH',
      `${bits}-bit integer PCM is not supported, expected 8, 16, 24 or 32 bits`,
    );
  }
  if (codec === FORMAT_FLOAT && !FLOAT_BITS.includes(bits)) {
    throw new AudioFormatError(
      'UNSUPPORTED_BIT_DEPTH',
      `${bits}-bit IEEE float is not supported, expected 32 or 64 bits`,
    );
  }
  const expectedAlign = (channels * bits) / 8;
  if (blockAlign !== expectedAlign) {
    throw new AudioFormatError(
      'BAD_BLOCK_ALIGN',
      `fmt block align is ${blockAlign} bytes but ${channels} channel(s) × ${bits} bits need ${expectedAlign}`,
    );
  }
  return { codec, channels, sampleRate, blockAlign, bits };
}

function readSamples(view: DataView, data: Chunk, format: Format): Float32Array {
  const { blockAlign, channels, bits, codec } = format;
  if (data.size % blockAlign !== 0) {
    throw new AudioFormatError(
      'BAD_BLOCK_ALIGN',
      `WAV data chunk is ${data.size} bytes, not a whole number of ${blockAlign}-byte frames`,
    );
  }
  const frames = data.size / blockAlign;
  if (frames === 0)
    throw new AudioFormatError('NO_FRAMES', 'WAV data chunk holds 0 frames, expected at least 1');

  const count = frames * channels;
  const out = new Float32Array(count);
  const at = data.start;
  if (codec === FORMAT_FLOAT) {
    for (let i = 0; i < count; i++) {
      const value = bits === 32 ? view.getFloat32(at + 4 * i, true) : view.getFloat64(at + 8 * i, true);
      out[i] = value;
      if (!Number.isFinite(out[i])) {
        const what = Number.isFinite(value) ? `${value}, beyond the float32 range` : String(value);
        throw new AudioFormatError(
          'NON_FINITE_SAMPLE',
          `WAV float sample at frame ${Math.floor(i / channels)}, channel ${i % channels} is ${what}`,
        );
      }
    }
    return out;
  }
  switch (bits) {
    case 8:
      for (let i = 0; i < count; i++) out[i] = (view.getUint8(at + i) - 128) / 128;
      break;
    case 16:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i, true) / 32768;
      break;
    case 24:
      for (let i = 0; i < count; i++) {
        const p = at + 3 * i;
        const unsigned = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getUint8(p + 2) << 16);
        out[i] = ((unsigned << 8) >> 8) / 8_388_608;
      }
      break;
    default:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, true) / 2_147_483_648;
  }
  return out;
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function isChunkId(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 4; i++) {
    if (bytes[at + i] < 0x20 || bytes[at + i] > 0x7e) return false;
  }
  return true;
}

/** A four-byte tag as text when printable, else as hex bytes. */
function quote(bytes: Uint8Array, at: number): string {
  if (isChunkId(bytes, at)) return JSON.stringify(fourcc(bytes, at));
  return `0x${Array.from(bytes.subarray(at, at + 4), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}

function formatGuid(bytes: Uint8Array, at: number): string {
  const h = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(at + from, at + to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('').toUpperCase();
  };
  return `{${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
