/**
 * Builds WAV files byte by byte — well-formed or deliberately broken — for the decoder's tests and for
 * `scripts/make-bad-wavs.ts`. Every size field can be overridden, so a file can lie about itself.
 */

export type SampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export const BITS: Record<SampleFormat, number> = {
  pcm8: 8,
  pcm16: 16,
  pcm24: 24,
  pcm32: 32,
  float32: 32,
  float64: 64,
};

export interface FmtFields {
  /** Format tag: 1 PCM, 3 IEEE float, 0xFFFE extensible, anything else for unsupported codecs. */
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
  /** Defaults to channels × bits / 8. */
  blockAlign?: number;
  /** Defaults to sampleRate × blockAlign. */
  byteRate?: number;
  /** For tag 0xFFFE: the real codec (1 or 3) put into the subformat GUID, plus optional overrides. */
  extensible?: {
    subformat: number;
    validBits?: number;
    channelMask?: number;
    guidTail?: number[];
    cbSize?: number;
  };
}

const KSDATAFORMAT_TAIL = [
  0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function fmtBody(f: FmtFields): Uint8Array {
  const blockAlign = f.blockAlign ?? (f.channels * f.bits) / 8;
  const body = new Uint8Array(f.extensible ? 40 : 16);
  const view = new DataView(body.buffer);
  view.setUint16(0, f.tag, true);
  view.setUint16(2, f.channels, true);
  view.setUint32(4, f.sampleRate, true);
  view.setUint32(8, f.byteRate ?? f.sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, f.bits, true);
  if (f.extensible) {
    view.setUint16(16, f.extensible.cbSize ?? 22, true);
    view.setUint16(18, f.extensible.validBits ?? f.bits, true);
    view.setUint32(20, f.extensible.channelMask ?? 0, true);
    view.setUint16(24, f.extensible.subformat, true);
    body.set(f.extensible.guidTail ?? KSDATAFORMAT_TAIL, 26);
  }
  return body;
}

/** A chunk: id, size (the body length unless `declaredSize` lies), body, and a pad byte if the size is odd. */
export function chunk(
  id: string,
  body: Uint8Array,
  opts: { declaredSize?: number; pad?: boolean } = {},
): Uint8Array {
  const header = new Uint8Array(8);
  header.set(ascii(id), 0);
  new DataView(header.buffer).setUint32(4, opts.declaredSize ?? body.length, true);
  const pad = (opts.pad ?? true) && body.length % 2 === 1 ? [new Uint8Array(1)] : [];
  return concat([header, body, ...pad]);
}

/** RIFF container around `chunks`; the RIFF size is right unless `declaredSize` says otherwise. */
export function riff(
  chunks: Uint8Array[],
  opts: { magic?: string; form?: string; declaredSize?: number } = {},
) {
  const body = concat(chunks);
  const header = new Uint8Array(12);
  header.set(ascii(opts.magic ?? 'RIFF'), 0);
  new DataView(header.buffer).setUint32(4, opts.declaredSize ?? 4 + body.length, true);
  header.set(ascii(opts.form ?? 'WAVE'), 8);
  return concat([header, body]);
}

/** Little-endian sample bytes: integer codes for PCM (unsigned 0…255 for 8-bit), values for floats. */
export function sampleBytes(format: SampleFormat, values: readonly number[]): Uint8Array {
  const width = BITS[format] / 8;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * width;
    switch (format) {
      case 'pcm8':
        view.setUint8(at, v);
        break;
      case 'pcm16':
        view.setInt16(at, v, true);
        break;
      case 'pcm24':
        view.setUint8(at, v & 0xff);
        view.setUint8(at + 1, (v >> 8) & 0xff);
        view.setUint8(at + 2, (v >> 16) & 0xff);
        break;
      case 'pcm32':
        view.setInt32(at, v, true);
        break;
      case 'float32':
        view.setFloat32(at, v, true);
        break;
      case 'float64':
        view.setFloat64(at, v, true);
    }
  });
  return out;
}

/** A well-formed file: fmt then data (optionally with extra chunks before the data). */
export function wavFile(
  format: SampleFormat,
  channels: number,
  sampleRate: number,
  values: readonly number[],
  opts: { extensible?: boolean; before?: Uint8Array[]; after?: Uint8Array[] } = {},
): Uint8Array {
  const codec = format.startsWith('float') ? 3 : 1;
  const bits = BITS[format];
  const fmt = fmtBody({
    tag: opts.extensible ? 0xfffe : codec,
    channels,
    sampleRate,
    bits,
    extensible: opts.extensible ? { subformat: codec } : undefined,
  });
  return riff([
    chunk('fmt ', fmt),
    ...(opts.before ?? []),
    chunk('data', sampleBytes(format, values)),
    ...(opts.after ?? []),
  ]);
}
