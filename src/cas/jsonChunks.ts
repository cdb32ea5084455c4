/**
 * The exact text JSON.stringify gives for plain data (objects, arrays, strings, numbers, booleans,
 * null), in pieces: long arrays go out a slice at a time, so the metadata of a package of 200,000
 * paths is never held as one string, and one buffer, of it all.
 */
const SLICE = 1024;

export function* jsonChunks(value: unknown): Generator<Buffer> {
  for (const piece of pieces(value)) yield Buffer.from(piece);
}

function* pieces(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i += SLICE) {
      const slice: unknown[] = value.slice(i, i + SLICE);
      if (i) yield ',';
      if (slice.some((v) => typeof v === 'object' && v !== null)) {
        // Elements that may hold long arrays of their own go one by one.
        for (let j = 0; j < slice.length; j++) {
          if (j) yield ',';
          // As in JSON.stringify, an element with no JSON form is null.
          yield* isOmitted(slice[j]) ? ['null'] : pieces(slice[j]);
        }
      } else {
        yield JSON.stringify(slice).slice(1, -1);
      }
    }
    yield ']';
    return;
  }
  if (typeof value === 'object' && value !== null) {
    yield '{';
    let first = true;
    for (const [key, v] of Object.entries(value)) {
      if (isOmitted(v)) continue;
      yield `${first ? '' : ','}${JSON.stringify(key)}:`;
      first = false;
      yield* pieces(v);
    }
    yield '}';
    return;
  }
  yield JSON.stringify(value);
}

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}
