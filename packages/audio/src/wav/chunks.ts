/**
 * Reading a WAV file too long to hold in memory (hours of audio for false-accept measurements) in pieces.
 * Only the chunk headers up to the data chunk are walked here; each piece is decoded by `decodeWav` from a
 * small WAV assembled in memory (the file's own header chunks + a data chunk holding just that piece), so
 * a piece is checked exactly as a whole file would be.
 */
import { open } from 'node:fs/promises';
import { AudioFormatError } from '../errors.ts';
import { type DecodedAudio, decodeWav } from './decode.ts';

/** Frames per piece unless the caller says otherwise: 10 s at 16 kHz. */
export const DEFAULT_CHUNK_FRAMES = 160_000;
/** Bytes read to find the data chunk; header chunks beyond this are not expected in practice. */
const HEADER_SCAN_BYTES = 1 << 20;

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/**
 * Yields the audio of the WAV file at `path` in pieces of at most `chunkFrames` frames, in order. Every
 * piece has the file's sample rate and channels (interleaved samples, as `decodeWav` gives them).
 */
export async function* readWavChunks(
  path: string,
  chunkFrames: number = DEFAULT_CHUNK_FRAMES,
): AsyncGenerator<DecodedAudio> {
  if (!Number.isInteger(chunkFrames) || chunkFrames < 1) {
    throw new RangeError(`readWavChunks chunk size must be an integer ≥ 1 frames, got ${chunkFrames}`);
  }
  const file = await open(path, 'r');
  try {
    const { size: fileSize } = await file.stat();
    const head = new Uint8Array(Math.min(fileSize, HEADER_SCAN_BYTES));
    await file.read(head, 0, head.length, 0);
    const view = new DataView(head.buffer);
    if (head.length < 12 || fourcc(head, 0) !== 'RIFF' || fourcc(head, 8) !== 'WAVE') {
      decodeWav(head); // names the problem exactly as for a whole file
      throw new AudioFormatError('BAD_MAGIC', 'not a RIFF/WAVE file');
    }
    let pos = 12;
    let dataAt = -1;
    let dataSize = 0;
    let blockAlign = 0;
    while (pos + 8 <= head.length) {
      const id = fourcc(head, pos);
      const size = view.getUint32(pos + 4, true);
      if (id === 'fmt ' && pos + 8 + 14 <= head.length) blockAlign = view.getUint16(pos + 8 + 12, true);
      if (id === 'data') {
        dataAt = pos;
        dataSize = size;
        break;
      }
      pos += 8 + size + (size & 1);
    }
    if (dataAt < 0) {
      // No data chunk among the first bytes: let the full decoder say what is wrong.
      decodeWav(head);
      throw new AudioFormatError(
        'MISSING_CHUNK',
        `no data chunk in the first ${head.length} bytes of ${path}`,
      );
    }
    const remain = fileSize - (dataAt + 8);
    if (dataSize > remain) {
      throw new AudioFormatError(
        'TRUNCATED',
        `WAV data chunk says ${dataSize} bytes but only ${remain} remain`,
      );
    }
    if (blockAlign === 0) {
      // fmt missing, after data, or malformed: the full decoder of the header alone reports it.
      decodeWav(head.subarray(0, dataAt + 8));
      throw new AudioFormatError('MISSING_CHUNK', 'WAV file has no usable fmt chunk before its data');
    }
    if (dataSize % blockAlign !== 0) {
      throw new AudioFormatError(
        'BAD_BLOCK_ALIGN',
        `WAV data chunk is ${dataSize} bytes, not a whole number of ${blockAlign}-byte frames`,
      );
    }
    if (dataSize === 0)
      throw new AudioFormatError('NO_FRAMES', 'WAV data chunk holds 0 frames, expected at least 1');
    const prefix = head.slice(0, dataAt + 8);
    const pieceBytes = chunkFrames * blockAlign;
    for (let offset = 0; offset < dataSize; offset += pieceBytes) {
      const length = Math.min(pieceBytes, dataSize - offset);
      const wav = new Uint8Array(prefix.length + length);
      wav.set(prefix, 0);
      await file.read(wav, prefix.length, length, dataAt + 8 + offset);
      const wavView = new DataView(wav.buffer);
      wavView.setUint32(4, wav.length - 8, true);
      wavView.setUint32(dataAt + 4, length, true);
      yield decodeWav(wav);
    }
  } finally {
    await file.close();
  }
}
