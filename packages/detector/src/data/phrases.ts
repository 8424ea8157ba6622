/**
 * What the synthesized clips say. Positives are the keyword (sometimes followed by a command, so the model
 * must mark the keyword's end rather than the clip's end); negatives are confusable phrases, other words,
 * short phrases, plain sentences, silence and noise.
 */

export const DEFAULT_KEYWORD = 'hey nova';

/** Kinds of negative clip; the manifest records one per negative. */
export type NegativeKind = 'confusable' | 'word' | 'phrase' | 'sentence' | 'silence' | 'noise';

/** Share of each negative kind in a dataset; confusables get the largest share because they are the hard cases. */
export const NEGATIVE_MIX: Readonly<Record<NegativeKind, number>> = {
  confusable: 0.3,
  word: 0.15,
  phrase: 0.2,
  sentence: 0.2,
  silence: 0.05,
  noise: 0.1,
};

/** The negative shares of the `wide` data profile (data/clip.ts): confusables are what fires on running speech. */
export const NEGATIVE_MIX_WIDE: Readonly<Record<NegativeKind, number>> = {
  confusable: 0.45,
  word: 0.15,
  phrase: 0.12,
  sentence: 0.18,
  silence: 0.03,
  noise: 0.07,
};

/**
 * More near misses of "hey nova" for base training only (the `wide` profile): words and phrases that start or
 * end like the keyword, or share its vowels and rhythm. Kept apart from HEY_NOVA_CONFUSABLES so the
 * evaluation stream, which draws from that list, stays the same.
 */
const HEY_NOVA_NEAR_MISSES = [
  'hey',
  'hey now',
  'hey no',
  'hay no va',
  'hey novel',
  'hey november',
  'hey noble',
  'hey nomad',
  'hey motor',
  'hey rover',
  'hey over there',
  'hey nope',
  'hey, no thanks',
  'hey, know why',
  'the novas',
  'nova',
  'novas',
  'novice',
  'novel',
  'november',
  'innova',
  'nirvana',
  'bova',
  'jehovah',
  'a nova',
  'la nova',
  'villanova',
  'eh nova',
  'hey mova',
  'hey lova',
  'hey dova',
  'hey noga',
  'hey nada',
  'hey nina',
  'hey, no fair',
  'heading over',
  'hey no vacancy',
  'hey noel',
  'hay over',
  'say no more',
  'they know a',
  'pay nova',
  'hey, go ahead',
  'hey, slow down',
  'hey, hold on',
  'okay nova',
  'hey hannah',
  'hey donna',
  'hey lola',
] as const;

/** Near misses of the default keyword: shared sounds, shared words, or the same rhythm. */
const HEY_NOVA_CONFUSABLES = [
  'hey nora',
  'nova',
  'hey over',
  'hey no va',
  'hey noah',
  'hey mona',
  'hey nola',
  'hey no way',
  'hey, not now',
  'hey, nobody',
  'hey there',
  'hey you',
  'hey joe',
  'a nova',
  'bossa nova',
  'supernova',
  'casanova',
  'nova scotia',
  'okay, no',
  'heavy over',
  'hey, no problem',
  'say nova',
  'the nova',
  'hey nolan',
  'hey novak',
  'hey, know what',
  'high over',
  'hey no',
] as const;

/** Stock words that stand in for one word of a custom keyword in its generic confusables. */
const SWAP_WORDS = ['hey', 'okay', 'hello', 'no', 'over', 'nora', 'now', 'there'] as const;

/** Single words, common in speech and in commands to an assistant. */
export const WORDS = [
  'hello',
  'okay',
  'yes',
  'no',
  'stop',
  'play',
  'music',
  'weather',
  'today',
  'tomorrow',
  'morning',
  'evening',
  'thanks',
  'please',
  'sorry',
  'maybe',
  'never',
  'always',
  'number',
  'seven',
  'eleven',
  'twenty',
  'hundred',
  'coffee',
  'kitchen',
  'window',
  'garden',
  'yellow',
  'orange',
  'purple',
  'banana',
  'november',
  'over',
  'novel',
  'nothing',
  'navy',
  'heavy',
  'happy',
  'honey',
  'money',
  'lovely',
  'noble',
  'nobody',
  'normal',
  'north',
  'nowhere',
  'hey',
  'hay',
  'hi',
  'hoover',
  'grova',
  'mover',
  'clover',
  'sofa',
  'cover',
  'rover',
  'later',
  'computer',
  'telephone',
  'message',
  'lights',
  'volume',
  'louder',
  'quiet',
  'timer',
  'alarm',
  'calendar',
  'reminder',
  'question',
  'answer',
] as const;

/** Short everyday phrases. */
export const PHRASES = [
  'good morning',
  'good night',
  'thank you',
  'see you later',
  'turn on the lights',
  'turn it off',
  'what time is it',
  'set a timer',
  'play some music',
  'how are you',
  'not right now',
  'over there',
  'come over here',
  'no way',
  'hang on',
  'hold on a second',
  'let me think',
  'are you ready',
  'open the door',
  'close the window',
  'call my mother',
  'send a message',
  'what is the weather',
  'i know',
  'never mind',
  'go ahead',
  'one more time',
  'a new novel',
  'hey everyone',
  'nice to meet you',
  'have a nice day',
  'it is over now',
  'know what i mean',
  'nobody knows',
  'oh no',
  'hello there',
  'hey, how is it going',
  'no, a bit later',
  'the nova concert',
  'just a moment',
] as const;

/** Plain sentences of varied length and rhythm. */
export const SENTENCES = [
  'The weather is nice today, so we might go for a walk.',
  'Please remember to buy milk and bread on the way home.',
  'I think the meeting starts at half past ten.',
  'She read the whole novel over the weekend.',
  'There is a small cafe just around the corner.',
  'Can you tell me how long the train takes?',
  'The children played in the garden until it got dark.',
  'We need to leave early if we want to catch the bus.',
  'He said he would call back later this evening.',
  'My favourite season is autumn, when the leaves turn red.',
  'The kitchen light has been flickering all week.',
  'Nobody expected the game to go into extra time.',
  'Turn left at the second traffic light and keep going.',
  'It took them three hours to climb the hill.',
  'The package should arrive by Thursday afternoon.',
  'I would like a cup of tea with a little honey.',
  'The museum is closed on Mondays and public holidays.',
  'They moved to Nova Scotia a few years ago.',
  'A supernova can outshine an entire galaxy.',
  'Hey, did you see the message I sent you?',
  'No, I have not finished the report yet.',
  'The dog barked at the postman again this morning.',
  'Could you move the sofa over to the window?',
  'We listened to bossa nova records all night.',
  'The recipe needs two eggs and a spoon of sugar.',
  'His phone battery died in the middle of the call.',
  'The river flooded after a week of heavy rain.',
  'Let us meet at the station at seven.',
  'The library has a new collection of old maps.',
  'If it rains tomorrow, the picnic will be cancelled.',
  'She painted the door a bright shade of blue.',
  'I forgot my umbrella at the office.',
  'The concert was louder than we expected.',
  'Please speak a little more slowly.',
  'Our neighbours are having a party on Saturday.',
  'The computer restarted in the middle of my work.',
  'He never drinks coffee after lunch.',
  'The plane landed twenty minutes early.',
  'Hey Nora, can you pass me the salt?',
  'It is over, we can finally go home.',
  'The shop on the corner sells fresh bread every morning.',
  'Most of the students passed the exam.',
  'The garden needs watering twice a week in summer.',
  'I heard a strange noise coming from the attic.',
  'The film was long but worth watching.',
  'Keep the receipt in case you need to return it.',
  'The baby finally fell asleep after midnight.',
  'We should check the tyres before the long drive.',
  'Nothing in the fridge looks very appetising.',
  'The new bridge will open to traffic next spring.',
] as const;

/** Commands that sometimes follow the keyword in a positive clip. */
export const COMMANDS = [
  'what time is it',
  'turn on the lights',
  'play some music',
  'set a timer for ten minutes',
  'what is the weather like',
  'stop',
  'call mom',
  'volume up',
  'tell me a joke',
  'good morning',
  'remind me to buy milk',
  'how are you',
] as const;

function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when `text`, ignoring case and punctuation, contains the keyword as whole words. */
export function containsKeyword(text: string, keyword: string): boolean {
  const k = normalize(keyword);
  return k.length > 0 && ` ${normalize(text)} `.includes(` ${k} `);
}

/**
 * Extra near misses for a keyword (the `wide` profile): a hand-made list for the default keyword, the
 * keyword's words in reverse order otherwise. Nothing returned contains the keyword.
 */
export function nearMisses(keyword: string): string[] {
  const k = normalize(keyword);
  const out: string[] =
    k === normalize(DEFAULT_KEYWORD) ? [...HEY_NOVA_NEAR_MISSES] : [k.split(' ').reverse().join(' ')];
  return out.filter((c) => c.length > 0 && !containsKeyword(c, keyword));
}

/** Speech that may come before the keyword or a confusable in running speech: words, phrases, sentences. */
export function contextTexts(keyword: string): string[] {
  return [...WORDS, ...PHRASES, ...SENTENCES].filter((t) => !containsKeyword(t, keyword));
}

/**
 * Confusable phrases for a keyword. The default keyword has a hand-made list; any other keyword gets generic
 * near misses: each of its words alone, the keyword minus its first or last word, and the keyword with one
 * word swapped for a stock word. Nothing returned contains the keyword itself.
 */
export function confusablesFor(keyword: string): string[] {
  const k = normalize(keyword);
  if (k.length === 0)
    throw new RangeError(`keyword must contain letters or digits, got ${JSON.stringify(keyword)}`);
  const out = new Set<string>();
  if (k === normalize(DEFAULT_KEYWORD)) {
    for (const c of HEY_NOVA_CONFUSABLES) out.add(c);
  } else {
    const words = k.split(' ');
    for (const w of words) out.add(w);
    if (words.length > 1) {
      out.add(words.slice(1).join(' '));
      out.add(words.slice(0, -1).join(' '));
    }
    for (let i = 0; i < words.length; i++) {
      for (const s of SWAP_WORDS) {
        if (s === words[i]) continue;
        out.add([...words.slice(0, i), s, ...words.slice(i + 1)].join(' '));
      }
    }
  }
  return [...out].filter((c) => !containsKeyword(c, keyword));
}

/** The spoken negative texts of one kind for a keyword, with anything containing the keyword removed. */
export function negativeTexts(
  kind: 'confusable' | 'word' | 'phrase' | 'sentence',
  keyword: string,
): string[] {
  const source: readonly string[] =
    kind === 'confusable'
      ? confusablesFor(keyword)
      : kind === 'word'
        ? WORDS
        : kind === 'phrase'
          ? PHRASES
          : SENTENCES;
  return source.filter((t) => !containsKeyword(t, keyword));
}
