#!/usr/bin/env python3
"""MFCC fixtures for packages/audio: a float64 NumPy implementation of exactly DESIGN §1, written without
reference to our TypeScript, applied to a set of float32 signals.

Writes to test/fixtures/mfcc/ (committed; tests do not need Python):
  <name>.f32        the signal, float32 little-endian
  <name>.mfcc.f64   expected MFCC, float64 little-endian, [frames, 13] row-major
  mel_weights.f64   the default [257, 40] filterbank, float64 little-endian
  manifest.json     [{ name, samples, frames, config (overrides of the default), description }]

    cd packages/audio && python3 scripts/make_mfcc_fixtures.py
"""
import json
import os

import numpy as np
import scipy.fft

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'mfcc')

SAMPLE_RATE = 16000
DEFAULT = {
    'sample_rate': SAMPLE_RATE,
    'frame_length': 400,
    'frame_step': 160,
    'fft_length': 512,
    'window': 'hann_periodic',
    'num_mel_bins': 40,
    'lower_edge_hertz': 20,
    'upper_edge_hertz': 7600,
    'log_offset': 1e-6,
    'num_mfcc': 13,
}
# A second configuration, so the fixtures also pin how every field is used.
CUSTOM = {
    'frame_length': 480,
    'frame_step': 240,
    'fft_length': 1024,
    'num_mel_bins': 64,
    'lower_edge_hertz': 60,
    'upper_edge_hertz': 7000,
    'log_offset': 1e-3,
    'num_mfcc': 20,
}


def hertz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_weights(c):
    """[fft_length / 2 + 1, num_mel_bins]: weight of bin k in filter m = max(0, min(rising, falling)) in mel
    space, bin 0 zero."""
    bins = c['fft_length'] // 2 + 1
    bin_mel = hertz_to_mel(np.arange(bins) * c['sample_rate'] / c['fft_length'])[:, None]
    edges = np.linspace(hertz_to_mel(c['lower_edge_hertz']), hertz_to_mel(c['upper_edge_hertz']), c['num_mel_bins'] + 2)
    lo, center, hi = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    rising = (bin_mel - lo) / (center - lo)
    falling = (hi - bin_mel) / (hi - center)
    w = np.maximum(0.0, np.minimum(rising, falling))
    w[0, :] = 0.0
    return w


def mfcc(signal, c):
    x = signal.astype(np.float64)
    n = len(x)
    length, step, mels, coeffs = c['frame_length'], c['frame_step'], c['num_mel_bins'], c['num_mfcc']
    frames = 0 if n < length else 1 + (n - length) // step
    if frames == 0:
        return np.zeros((0, coeffs))
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)
    idx = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    spectrum = np.fft.rfft(x[idx] * window, n=c['fft_length'], axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    log_mel = np.log(power @ mel_weights(c) + c['log_offset'])
    out = scipy.fft.dct(log_mel, type=2, norm='ortho', axis=1)[:, :coeffs]
    # The same step by the formula, as a check on the reading of SciPy's normalization.
    i = np.arange(coeffs)[:, None]
    m = np.arange(mels)[None, :]
    basis = np.cos(np.pi * i * (m + 0.5) / mels) * np.where(i == 0, np.sqrt(1 / mels), np.sqrt(2 / mels))
    assert np.allclose(out, log_mel @ basis.T, rtol=0, atol=1e-9)
    return out


def speech_like(n, rng):
    """Voiced syllables: a glottal pulse train (f0 gliding 110 → 190 Hz) through three formant resonators,
    under a syllable-rate envelope, plus a little breath noise and silent gaps."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = 110 + 80 * t / max(t[-1], 1e-9)
    phase = np.cumsum(f0 / SAMPLE_RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    out = np.zeros(n)
    for formant, bandwidth, gain in [(700, 90, 1.0), (1200, 110, 0.6), (2600, 160, 0.3)]:
        r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
        theta = 2 * np.pi * formant / SAMPLE_RATE
        a1, a2 = 2 * r * np.cos(theta), -r * r
        y = np.zeros(n)
        for k in range(n):
            y[k] = pulses[k] + a1 * (y[k - 1] if k >= 1 else 0) + a2 * (y[k - 2] if k >= 2 else 0)
        out += gain * y
    envelope = np.clip(np.sin(2 * np.pi * 3.5 * t) * 1.4, 0, 1)
    out = out * envelope + 0.002 * rng.standard_normal(n)
    return 0.5 * out / np.max(np.abs(out))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261125)
    n = SAMPLE_RATE + 7
    t = np.arange(n) / SAMPLE_RATE
    signals = {
        'silence': (np.zeros(n), 'all zeros: every frame is the DCT of ln(log_offset)'),
        'white-noise': (rng.uniform(-0.5, 0.5, n), 'uniform white noise, peak 0.5'),
        'chirp': (0.7 * np.sin(2 * np.pi * (100 * t + (7900 - 100) / 2 * t * t)), 'linear chirp 100 → 7900 Hz over 1 s'),
        'speech-like': (speech_like(n, rng), 'formant-filtered pulse train with syllable envelope'),
        'tone-440': (0.9 * np.sin(2 * np.pi * 440 * t), 'pure 440 Hz tone: a wide dynamic range across mel bands'),
        'full-scale-square': (np.sign(np.sin(2 * np.pi * 1000 * t + 0.1)), '±1 square wave at 1 kHz, the loudest input'),
        'quiet-noise': (1e-4 * rng.standard_normal(n), 'noise at −80 dBFS: energies near log_offset'),
        'beyond-full-scale': (1.8 * np.sin(2 * np.pi * 300 * t), 'amplitude 1.8, not clipped by the front end'),
        'len-0': (np.zeros(0), 'empty: 0 frames'),
        'len-399': (rng.uniform(-0.5, 0.5, 399), 'one sample short of a frame: 0 frames'),
        'len-400': (rng.uniform(-0.5, 0.5, 400), 'exactly one frame'),
        'len-401': (rng.uniform(-0.5, 0.5, 401), 'one frame and one spare sample'),
        'len-560': (rng.uniform(-0.5, 0.5, 560), 'exactly two frames'),
    }
    configs = {name: {} for name in signals}
    signals['custom-config-speech-like'] = (signals['speech-like'][0], 'speech-like under the CUSTOM config')
    configs['custom-config-speech-like'] = CUSTOM
    manifest = []
    for name, (x, description) in signals.items():
        x32 = x.astype('<f4')
        expected = mfcc(x32, {**DEFAULT, **configs[name]})
        x32.tofile(os.path.join(OUT, f'{name}.f32'))
        expected.astype('<f8').tofile(os.path.join(OUT, f'{name}.mfcc.f64'))
        manifest.append({
            'name': name,
            'samples': len(x32),
            'frames': expected.shape[0],
            'config': configs[name],
            'description': description,
        })
    mel_weights(DEFAULT).astype('<f8').tofile(os.path.join(OUT, 'mel_weights.f64'))
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    print(f'wrote {len(manifest)} signals to {os.path.normpath(OUT)}')


if __name__ == '__main__':
    main()
