/**
 * Speech synthesis with espeak-ng, behind one function. The Debian binary (`espeak-ng` on PATH) is used when
 * present — about 10× faster per clip; otherwise the npm `espeak-ng` package (espeak-ng compiled to wasm),
 * so a fresh machine needs no system package. Both give 22,050 Hz mono 16-bit that we bring to 16 kHz with
 * the audio package's resampler. The two engines agree on timing (same length, same phone durations) but
 * not bit for bit, so the manifest records which one made a dataset.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { decodeWav, toMono16k } from '@kws/audio';
import { defaultJobs, Limiter } from './parallel.ts';
import { checkVoice } from './voices.ts';

export type EspeakEngine = 'binary' | 'wasm';
export type EngineChoice = EspeakEngine | 'auto';

/** espeak-ng's own defaults: 175 words per minute, pitch 50 on its 0–99 scale. */
export const DEFAULT_SPEED_WPM = 175;
export const DEFAULT_PITCH = 50;

export interface SynthesizeOptions {
  /** Words per minute, 80–450 (espeak-ng `-s`). */
  speed?: number;
  /** Pitch adjustment 0–99 (espeak-ng `-p`). */
  pitch?: number;
  /** 'auto' (default) takes the binary when it is on PATH, else the wasm build. */
  engine?: EngineChoice;
}

/** Thrown when espeak-ng fails or returns something that is not the audio we asked for. */
export class SynthesisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SynthesisError';
  }
}

function checkArgs(text: string, voice: string, speed: number, pitch: number): void {
  checkVoice(voice);
  if (typeof text !== 'string' || text.trim().length === 0 || text.length > 1000) {
    throw new RangeError(`text to synthesize must be 1–1000 characters, got ${JSON.stringify(text)}`);
  }
  // The text is espeak-ng's last argument: a leading '-' would be read as an option.
  if (text.trimStart().startsWith('-')) {
    throw new RangeError(`text to synthesize must not start with '-', got ${JSON.stringify(text)}`);
  }
  if (!(Number.isInteger(speed) && speed >= 80 && speed <= 450)) {
    throw new RangeError(`speed must be an integer 80–450 words per minute, got ${speed}`);
  }
  if (!(Number.isInteger(pitch) && pitch >= 0 && pitch <= 99)) {
    throw new RangeError(`pitch must be an integer 0–99, got ${pitch}`);
  }
}

let binaryPath: string | null | undefined;

/** The espeak-ng executable on PATH, or null. Looked up once per process. */
export function findEspeakBinary(): string | null {
  if (binaryPath !== undefined) return binaryPath;
  binaryPath = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'espeak-ng');
    try {
      accessSync(candidate, constants.X_OK);
      binaryPath = candidate;
      break;
    } catch {
      // not here
    }
  }
  return binaryPath;
}

/** The engine `choice` stands for on this machine; asking for the binary where there is none throws. */
export function resolveEngine(choice: EngineChoice = 'auto'): EspeakEngine {
  if (choice === 'wasm') return 'wasm';
  if (choice === 'binary') {
    if (findEspeakBinary() === null)
      throw new SynthesisError('espeak-ng binary requested but not found on PATH');
    return 'binary';
  }
  if (choice !== 'auto') throw new RangeError(`engine must be auto, binary or wasm, got ${String(choice)}`);
  return findEspeakBinary() === null ? 'wasm' : 'binary';
}

/**
 * espeak-ng writing to a pipe cannot seek back to fill in the RIFF and data sizes, so it leaves 0x7ffff000
 * there; set them to what actually arrived so the strict WAV decoder accepts the stream.
 */
function fixStreamedWavSizes(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') {
    throw new SynthesisError(`espeak-ng output is not a RIFF/WAVE stream (${bytes.length} bytes)`);
  }
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = text(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'data') {
      const available = bytes.length - (at + 8);
      const data = available - (available % 2);
      view.setUint32(at + 4, data, true);
      view.setUint32(4, at + 8 + data - 8, true);
      return bytes.subarray(0, at + 8 + data);
    }
    at += 8 + size + (size % 2);
  }
  throw new SynthesisError(`espeak-ng output has no data chunk (${bytes.length} bytes)`);
}

function runBinary(args: string[]): Promise<Uint8Array> {
  const exe = findEspeakBinary();
  if (exe === null) return Promise.reject(new SynthesisError('espeak-ng binary not found on PATH'));
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new SynthesisError(`espeak-ng could not start: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = Buffer.concat(err).toString('utf8').trim();
        reject(new SynthesisError(`espeak-ng exited with ${signal ?? code}${why ? `: ${why}` : ''}`));
        return;
      }
      const bytes = Buffer.concat(out);
      resolve(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
  });
}

interface EspeakModule {
  FS: { readFile(path: string): Uint8Array };
}
type EspeakFactory = (options: Record<string, unknown>) => Promise<EspeakModule>;

/** The part of the WebAssembly JS API used here (the project's `lib` setting carries no WebAssembly types). */
type WasmModule = object;
type WasmInstance = object;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  /** With a compiled module, resolves to an instance. */
  instantiate(module: WasmModule, imports: object): Promise<WasmInstance>;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasmModule: Promise<{ factory: EspeakFactory; module: WasmModule }> | null = null;

/**
 * The npm build runs espeak-ng's `main` once per instance, so each clip needs a fresh instance; compiling the
 * 18 MB wasm once and instantiating it per call saves the compile (≈ 30 ms) each time.
 */
function loadWasm(): Promise<{ factory: EspeakFactory; module: WasmModule }> {
  wasmModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const jsPath = require.resolve('espeak-ng');
    const wasmPath = join(jsPath, '..', 'espeak-ng.wasm');
    const imported = (await import(jsPath)) as { default: EspeakFactory };
    const module = await webAssembly.compile(readFileSync(wasmPath));
    return { factory: imported.default, module };
  })();
  return wasmModule;
}

async function runWasm(args: string[], text: string): Promise<Uint8Array> {
  const { factory, module } = await loadWasm();
  const messages: string[] = [];
  const outPath = '/tmp/out.wav'; // in the instance's own in-memory file system
  let failInstantiate: (error: unknown) => void = () => {};
  const instantiateFailed = new Promise<never>((_, reject) => {
    failInstantiate = reject;
  });
  const instance = await Promise.race([
    factory({
      arguments: [...args, '-w', outPath, text],
      instantiateWasm: (imports: object, done: (instance: WasmInstance, module: WasmModule) => void) => {
        webAssembly.instantiate(module, imports).then((instance) => done(instance, module), failInstantiate);
        return {};
      },
      print: (line: string) => messages.push(line),
      printErr: (line: string) => messages.push(line),
    }),
    instantiateFailed,
  ]);
  try {
    return instance.FS.readFile(outPath);
  } catch {
    throw new SynthesisError(
      `espeak-ng (wasm) wrote no audio${messages.length ? `: ${messages.join(' / ')}` : ''}`,
    );
  }
}

/**
 * Speaks `text` with `voice` (`accent+variant`, see voices.ts) and returns mono float32 at 16 kHz, exactly as
 * espeak-ng renders it: no leading silence, and ≈ 0.3 s of trailing silence (its end-of-clause pause, which
 * grows as speed falls), so trim before using the end of the buffer as the end of the speech.
 */
export async function synthesize(
  text: string,
  voice: string,
  options: SynthesizeOptions = {},
): Promise<Float32Array> {
  const speed = options.speed ?? DEFAULT_SPEED_WPM;
  const pitch = options.pitch ?? DEFAULT_PITCH;
  checkArgs(text, voice, speed, pitch);
  const engine = resolveEngine(options.engine);
  const args = ['-v', voice, '-s', String(speed), '-p', String(pitch)];
  const wav =
    engine === 'binary'
      ? fixStreamedWavSizes(await runBinary([...args, '--stdout', text]))
      : await runWasm(args, text);
  const decoded = decodeWav(wav);
  if (decoded.channels !== 1)
    throw new SynthesisError(`espeak-ng gave ${decoded.channels} channels, expected 1`);
  return toMono16k(decoded);
}

export interface Synthesizer {
  engine: EspeakEngine;
  /** Synthesizes one utterance, at most `jobs` at a time. */
  speak(text: string, voice: string, speed: number, pitch: number): Promise<Float32Array>;
}

export function createSynthesizer(engine: EngineChoice = 'auto', jobs: number = defaultJobs()): Synthesizer {
  const resolved = resolveEngine(engine);
  const limiter = new Limiter(jobs);
  return {
    engine: resolved,
    speak: (text, voice, speed, pitch) =>
      limiter.run(() => synthesize(text, voice, { speed, pitch, engine: resolved })),
  };
}
