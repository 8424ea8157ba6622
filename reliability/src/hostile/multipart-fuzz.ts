/**
 * Mutations of a valid multipart/form-data upload (fast-check): the media type and boundary parameter, the
 * part headers (file names with traversal, CR/LF, 5,000 characters, RFC 5987 encoding; field names; part
 * content types; hundreds of header lines), truncation, bit flips in the framing, data after the closing
 * boundary, and a Content-Length shorter than the body. The declared length is otherwise always the body's
 * own, so a case never waits on bytes that will not come (that is the bombs suite's business).
 */
import fc from 'fast-check';

export interface MultipartCase {
  contentType: string;
  body: Buffer;
  /** The Content-Length to declare (≤ body.length). */
  contentLength: number;
}

export type MultipartMutation =
  | { kind: 'contentType'; value: string }
  | { kind: 'replace'; from: string; to: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'bitflip'; at: number; bit: number; fromEnd: boolean }
  | { kind: 'append'; text: string }
  | { kind: 'headerLines'; count: number }
  | { kind: 'shortLength'; by: number };

/** Replacements of what `multipart()` writes for a part (`name="clips"; filename="…"`, `Content-Type: audio/wav`). */
const REPLACEMENTS: [string, string[]][] = [
  [
    'filename="',
    [
      'filename="../../../etc/passwd',
      'filename="..\\..\\boot.ini',
      'filename="a\r\nX-Injected: 1\r\n',
      `filename="${'n'.repeat(5_000)}`,
      'filename="\u202Ekcod.wav',
      'filename="nul\u0000byte',
      "filename*=UTF-8''%C3%BC%2F..; filename=\"",
      'x="',
    ],
  ],
  [
    'name="clips"',
    ['name="clips[]"', 'name=""', 'name="CLIPS"', 'name="clips"; name="other"', 'name=clips', 'nam'],
  ],
  [
    'Content-Type: audio/wav',
    [
      'Content-Type: application/x-evil',
      'Content-Type:',
      'Content-Type: audio/wav; charset=utf-16',
      'X-No: type',
    ],
  ],
  [
    'Content-Disposition: form-data',
    ['Content-Disposition: attachment', 'Content-Disposition:', 'X-Nothing: at-all'],
  ],
];

const replacement = fc.constantFrom(...REPLACEMENTS).chain(([from, tos]) =>
  fc.record({
    kind: fc.constant('replace' as const),
    from: fc.constant(from),
    to: fc.constantFrom(...tos),
  }),
);

const mutation: fc.Arbitrary<MultipartMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('contentType' as const),
    value: fc.constantFrom(
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; boundary="unterminated',
      `multipart/form-data; boundary=${'b'.repeat(300)}`,
      'multipart/form-data; boundary=WRONG',
      'multipart/mixed; boundary={boundary}',
      'multipart/form-data; charset=utf-16; boundary={boundary}',
      'MULTIPART/FORM-DATA; BOUNDARY={boundary}',
      'text/plain',
      'application/json',
      'application/octet-stream',
    ),
  }),
  { weight: 3, arbitrary: replacement },
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('bitflip' as const),
    at: fc.nat(300),
    bit: fc.nat(7),
    fromEnd: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    text: fc.constantFrom(
      'garbage',
      '\r\n--{boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\ny',
      '--',
    ),
  }),
  fc.record({ kind: fc.constant('headerLines' as const), count: fc.constantFrom(10, 33, 200, 2_000) }),
  fc.record({ kind: fc.constant('shortLength' as const), by: fc.integer({ min: 1, max: 400 }) }),
);

export const multipartMutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

/** Applies `mutations` to a valid upload (`body` with `contentType`, whose boundary is `boundary`). */
export function mutateMultipart(
  valid: { body: Buffer; contentType: string },
  mutations: readonly MultipartMutation[],
): MultipartCase {
  const boundary = /boundary=(\S+)/.exec(valid.contentType)?.[1] ?? '';
  let { contentType } = valid;
  let body = valid.body;
  let shortBy = 0;
  for (const m of mutations) {
    switch (m.kind) {
      case 'contentType':
        contentType = m.value.replace('{boundary}', boundary);
        break;
      case 'replace':
        body = Buffer.from(body.toString('latin1').replace(m.from, m.to), 'latin1');
        break;
      case 'truncate':
        body = body.subarray(0, m.at % (body.length + 1));
        break;
      case 'bitflip': {
        if (body.length === 0) break;
        body = Buffer.from(body);
        const at = m.fromEnd ? body.length - 1 - (m.at % body.length) : m.at % body.length;
        body[at] ^= 1 << m.bit;
        break;
      }
      case 'append':
        body = Buffer.concat([body, Buffer.from(m.text.replace('{boundary}', boundary), 'latin1')]);
        break;
      case 'headerLines': {
        const lines = Array.from({ length: m.count }, (_, i) => `X-Line-${i}: v\r\n`).join('');
        body = Buffer.from(
          body.toString('latin1').replace('Content-Type: ', `${lines}Content-Type: `),
          'latin1',
        );
        break;
      }
      case 'shortLength':
        shortBy = m.by;
        break;
    }
  }
  return { contentType, body, contentLength: Math.max(0, body.length - shortBy) };
}
