/**
 * The written voice split: which espeak-ng voices train the base model and which are held out to play
 * "users" in evaluation and personalization experiments. MODEL.md names the held-out voices from here.
 *
 * An espeak-ng voice is `accent+variant`: the accent (one of the 8 built-in English ones) sets the
 * pronunciation rules, the variant (files in espeak-ng-data/voices/!v) sets pitch range and formant scaling —
 * in effect the speaker. How the split was chosen:
 * - Variants were compared by their formant table and pitch range (sum of absolute differences of the
 *   `formant 0…8` and `pitch` lines). Many come in near-twin families (m3/Mike/john/croak, f1–f4/aunty/linda,
 *   Diogo/michel/Hugo/Henrique/miguel, Gene/Gene2, steph/steph2, m7/m8/Nguyen).
 * - The held-out variants are ones whose nearest neighbour is far away (distance > 500, where twins are < 250),
 *   so no base voice is a disguised copy of a "user", and together they span low male to high female pitch:
 *   marcelo (65–115 Hz), Andy (85–110), travis (75–120), shelby (100–210), Annie (120–280), Andrea (200–265).
 * - Each held-out variant is paired with a different accent (6 of the 8), so evaluation spans accents too.
 * - Base variants are all the other human-sounding variants, with exact duplicates dropped (Diogo = michel,
 *   Hugo = Henrique have identical tables) and the non-human ones left out (robosoft*, UniRobot, anikaRobot,
 *   Demonic, announcer, whisper, whisperf, Tweaky, fast, kaukovalta, iven2–4, RicishayMax*, Mr) as well as
 *   the klatt* variants, which the npm (wasm) espeak-ng build does not have. Every base variant is used with
 *   every accent.
 * Every variant was checked to synthesize with both the Debian binary and the npm build (en-us), and every
 * accent likewise (with m3).
 */

/** The 8 built-in English accents of espeak-ng 1.51. */
export const ACCENTS = [
  'en-us',
  'en-gb',
  'en-gb-scotland',
  'en-gb-x-gbclan',
  'en-gb-x-rp',
  'en-gb-x-gbcwmd',
  'en-029',
  'en-us-nyc',
] as const;

/** Variants used (with every accent) for base-model training. */
export const BASE_VARIANTS = [
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'm8',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
  'Alex',
  'Alicia',
  'anika',
  'antonio',
  'aunty',
  'belinda',
  'boris',
  'croak',
  'Denis',
  'Diogo',
  'ed',
  'Gene',
  'Gene2',
  'grandma',
  'grandpa',
  'gustave',
  'Hugo',
  'iven',
  'Jacky',
  'john',
  'Lee',
  'linda',
  'Marco',
  'Mario',
  'max',
  'Michael',
  'miguel',
  'Mike',
  'norbert',
  'Nguyen',
  'pablo',
  'paul',
  'pedro',
  'quincy',
  'rob',
  'robert',
  'sandro',
  'steph',
  'steph2',
  'Storm',
  'victor',
  'zac',
] as const;

/** The held-out "user" voices, one accent each; none of their variants appears in the base set. */
export const HELDOUT_VOICES = [
  'en-us+Andrea',
  'en-gb+marcelo',
  'en-gb-scotland+Annie',
  'en-029+Andy',
  'en-us-nyc+shelby',
  'en-gb-x-rp+travis',
] as const;

/** Every base voice: each accent with each base variant. */
export const BASE_VOICES: readonly string[] = ACCENTS.flatMap((accent) =>
  BASE_VARIANTS.map((variant) => `${accent}+${variant}`),
);

export type VoiceSet = 'base' | 'heldout' | 'all';

export const VOICE_SETS: readonly VoiceSet[] = ['base', 'heldout', 'all'];

/** The voices of one set, in a fixed order. */
export function voicesOf(set: VoiceSet): readonly string[] {
  switch (set) {
    case 'base':
      return BASE_VOICES;
    case 'heldout':
      return HELDOUT_VOICES;
    case 'all':
      return [...BASE_VOICES, ...HELDOUT_VOICES];
    default:
      throw new RangeError(`voice set must be one of ${VOICE_SETS.join(', ')}, got ${String(set)}`);
  }
}

/** The variant (speaker) part of `accent+variant`. */
export function variantOf(voice: string): string {
  const plus = voice.indexOf('+');
  return plus < 0 ? '' : voice.slice(plus + 1);
}

const KNOWN_VARIANTS = new Set<string>([...BASE_VARIANTS, ...HELDOUT_VOICES.map(variantOf)]);
const KNOWN_ACCENTS = new Set<string>(ACCENTS);

/**
 * espeak-ng silently substitutes a default for an unknown voice or variant (it still exits 0), which would
 * quietly mislabel a dataset, so voices are checked against the lists above.
 */
export function checkVoice(voice: string): void {
  const plus = voice.indexOf('+');
  const accent = plus < 0 ? voice : voice.slice(0, plus);
  const variant = plus < 0 ? null : voice.slice(plus + 1);
  if (!KNOWN_ACCENTS.has(accent) || (variant !== null && !KNOWN_VARIANTS.has(variant))) {
    throw new RangeError(
      `unknown espeak-ng voice ${JSON.stringify(voice)}: expected ACCENT or ACCENT+VARIANT with an accent of ` +
        `${ACCENTS.join(', ')} and a variant listed in voices.ts`,
    );
  }
}
