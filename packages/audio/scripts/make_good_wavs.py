#!/usr/bin/env python3
"""Writes well-formed WAV files with writers independent of ours (SciPy and SoX) into test/fixtures/good/,
plus expected.json with the sample values each file must decode to (integer PCM of b bits divided by
2^(b-1), 8-bit as (v - 128) / 128, floats as stored). Committed; the tests do not need Python or SoX.

    cd packages/audio && python3 scripts/make_good_wavs.py
"""
import json
import os
import subprocess
import tempfile

import numpy as np
from scipy.io import wavfile

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'good')
FRAMES = 61  # odd, so 8-bit mono data is odd-sized and needs a pad byte


def codes(bits, channels, seed):
    """Integer codes covering both extremes, zero, ±1 and pseudo-random values."""
    rng = np.random.default_rng(seed)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    x = rng.integers(lo, hi, size=(FRAMES, channels), endpoint=True, dtype=np.int64)
    x.flat[:5] = [lo, hi, 0, 1, -1]
    return x


def floats(channels, seed, peak):
    """Floats may exceed full scale in a WAV (SciPy writes them as is). SoX converts through int32 and clips
    at full scale, so its inputs (peak 1) are multiples of 2^-23 in [-1, 1), exact in float32 and in int32."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-peak, peak, size=(FRAMES, channels)).astype(np.float64)
    x = np.round(x * 2**23) / 2**23
    x[x >= 1.0] = 1 - 2**-23
    x.flat[:4] = [0.0, -1.0, 0.5, 2**-23]
    return x


def sox(raw, raw_args, out_args, path):
    with tempfile.NamedTemporaryFile(suffix='.raw') as f:
        raw.tofile(f.name)
        # -D: no dither, so the output holds exactly the codes we wrote.
        subprocess.run(['sox', '-D', '-t', 'raw', *raw_args, f.name, *out_args, path], check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}

    def record(name, rate, values):
        expected[name] = {
            'sampleRate': rate,
            'channels': values.shape[1],
            'samples': [float(v) for v in values.reshape(-1)],
        }

    # SciPy: plain WAVE_FORMAT_PCM / WAVE_FORMAT_IEEE_FLOAT, 16-byte fmt (18 for float).
    c = codes(8, 1, 1)
    wavfile.write(os.path.join(OUT, 'scipy-u8-mono-8000.wav'), 8000, (c + 128).astype(np.uint8))
    record('scipy-u8-mono-8000.wav', 8000, c / 128)
    c = codes(16, 2, 2)
    wavfile.write(os.path.join(OUT, 'scipy-s16-stereo-44100.wav'), 44100, c.astype(np.int16))
    record('scipy-s16-stereo-44100.wav', 44100, c / 32768)
    c = codes(32, 5, 3)
    wavfile.write(os.path.join(OUT, 'scipy-s32-5ch-48000.wav'), 48000, c.astype(np.int32))
    record('scipy-s32-5ch-48000.wav', 48000, c / 2**31)
    x = floats(2, 4, 1.5).astype(np.float32)
    wavfile.write(os.path.join(OUT, 'scipy-f32-stereo-16000.wav'), 16000, x)
    record('scipy-f32-stereo-16000.wav', 16000, x.astype(np.float64))
    x = floats(1, 5, 1.5)
    wavfile.write(os.path.join(OUT, 'scipy-f64-mono-96000.wav'), 96000, x)
    record('scipy-f64-mono-96000.wav', 96000, x)

    # SoX: WAVE_FORMAT_EXTENSIBLE for > 16 bits or > 2 channels, a fact chunk for floats, pad bytes.
    s32 = ['-e', 'signed', '-b', '32', '-L']
    c = codes(24, 2, 6)
    sox((c * 256).astype('<i4'), ['-r', '22050', '-c', '2', *s32], ['-b', '24'], os.path.join(OUT, 'sox-s24-stereo-22050.wav'))
    record('sox-s24-stereo-22050.wav', 22050, c / 2**23)
    c = codes(24, 5, 7)
    sox((c * 256).astype('<i4'), ['-r', '192000', '-c', '5', *s32], ['-b', '24'], os.path.join(OUT, 'sox-s24-5ch-192000.wav'))
    record('sox-s24-5ch-192000.wav', 192000, c / 2**23)
    c = codes(16, 5, 8)
    sox((c * 65536).astype('<i4'), ['-r', '16000', '-c', '5', *s32], ['-b', '16'], os.path.join(OUT, 'sox-s16-5ch-16000.wav'))
    record('sox-s16-5ch-16000.wav', 16000, c / 32768)
    c = codes(8, 1, 9)
    sox((c * 2**24).astype('<i4'), ['-r', '11025', '-c', '1', *s32], ['-b', '8', '-e', 'unsigned'], os.path.join(OUT, 'sox-u8-mono-odd-11025.wav'))
    record('sox-u8-mono-odd-11025.wav', 11025, c / 128)
    x = floats(1, 10, 1.0)
    sox(x.astype('<f8'), ['-r', '11025', '-c', '1', '-e', 'floating-point', '-b', '64', '-L'], ['-e', 'floating-point', '-b', '64'], os.path.join(OUT, 'sox-f64-mono-11025.wav'))
    record('sox-f64-mono-11025.wav', 11025, x)
    x = floats(6, 11, 1.0).astype(np.float32)
    sox(x.astype('<f4'), ['-r', '32000', '-c', '6', '-e', 'floating-point', '-b', '32', '-L'], ['-e', 'floating-point', '-b', '32'], os.path.join(OUT, 'sox-f32-6ch-32000.wav'))
    record('sox-f32-6ch-32000.wav', 32000, x.astype(np.float64))

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print(f'wrote {len(expected)} files to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
