/** Reads the NumPy-made MFCC fixtures (scripts/make_mfcc_fixtures.py). */
import { readFileSync } from 'node:fs';
import type { FeatureConfig } from '../src/mfcc/config.ts';

const dir = new URL('fixtures/mfcc/', import.meta.url);

export interface MfccFixture {
  name: string;
  samples: number;
  frames: number;
  config: Partial<FeatureConfig>;
  description: string;
}

export const mfccFixtures: MfccFixture[] = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));

function bytes(file: string): ArrayBuffer {
  const b = readFileSync(new URL(file, dir));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export function fixtureSignal(name: string): Float32Array {
  return new Float32Array(bytes(`${name}.f32`));
}

export function fixtureMfcc(name: string): Float64Array {
  return new Float64Array(bytes(`${name}.mfcc.f64`));
}

/** The default configuration's filterbank, [257, 40]. */
export function fixtureMelWeights(): Float64Array {
  return new Float64Array(bytes('mel_weights.f64'));
}
