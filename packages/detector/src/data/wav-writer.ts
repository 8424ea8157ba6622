/**
 * A 16 kHz mono 16-bit WAV file written a chunk at a time, for audio too long to hold in memory (a 2 h
 * evaluation stream is 460 MB as float32, 230 MB as 16-bit). Samples are quantized by `encodeWav` itself, so
 * streamed and whole-buffer files agree byte for byte; the header's sizes are filled in by `close()`.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { encodeWav } from '@kws/audio';

const HEADER_BYTES = 44;
const MAX_DATA_BYTES = 0xffff_ffff - HEADER_BYTES;

export class WavStreamWriter {
  readonly path: string;
  readonly sampleRate: number;
  private handle: FileHandle | null;
  private frames = 0;

  private constructor(path: string, sampleRate: number, handle: FileHandle) {
    this.path = path;
    this.sampleRate = sampleRate;
    this.handle = handle;
  }

  /** Creates (or truncates) `path` and writes a header whose sizes `close()` will fill in. */
  static async create(path: string, sampleRate: number): Promise<WavStreamWriter> {
    const header = encodeWav(new Float32Array(0), sampleRate);
    if (header.length !== HEADER_BYTES) {
      throw new Error(
        `encodeWav header is ${header.length} bytes, the streaming writer expects ${HEADER_BYTES}`,
      );
    }
    const handle = await open(path, 'w');
    try {
      await handle.write(header, 0, HEADER_BYTES, 0);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new WavStreamWriter(path, sampleRate, handle);
  }

  /** Frames written so far. */
  get length(): number {
    return this.frames;
  }

  async append(samples: Float32Array): Promise<void> {
    if (this.handle === null) throw new Error(`WAV writer for ${this.path} is closed`);
    if ((this.frames + samples.length) * 2 > MAX_DATA_BYTES) {
      throw new RangeError(
        `WAV file ${this.path} would exceed 4 GiB at ${this.frames + samples.length} frames`,
      );
    }
    if (samples.length === 0) return;
    const bytes = encodeWav(samples, this.sampleRate);
    await this.handle.write(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, HEADER_BYTES + this.frames * 2);
    this.frames += samples.length;
  }

  /** Fills in the RIFF and data sizes, flushes to disk and closes. Safe to call twice. */
  async close(): Promise<void> {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    try {
      const sizes = new Uint8Array(4);
      const view = new DataView(sizes.buffer);
      const dataBytes = this.frames * 2;
      view.setUint32(0, HEADER_BYTES - 8 + dataBytes, true);
      await handle.write(sizes, 0, 4, 4);
      view.setUint32(0, dataBytes, true);
      await handle.write(sizes, 0, 4, 40);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
