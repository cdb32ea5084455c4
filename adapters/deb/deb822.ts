/**
 * Debian control-file syntax (deb822): Packages, Release/InRelease, dpkg status, .deb control.
 *
 * Values keep enough of the original text that `formatParagraph` reproduces a canonical paragraph
 * ("Name: value", dpkg's own output form) byte for byte: the first line is trimmed, continuation
 * lines are kept exactly, leading space or tab included.
 */
import { UserError } from '../../src/errors.js';

const SPACE = 32;
const TAB = 9;
const HASH = 35;
const CR = 13;

export class Paragraph {
  private readonly own: [string, string][];

  constructor(fields: [string, string][]) {
    this.own = fields;
  }

  /** Field names as written, values as described above, in file order. */
  get fields(): [string, string][] {
    return this.own;
  }

  /** Case-insensitive lookup; with duplicate fields (invalid deb822) the first one wins. */
  get(name: string): string | undefined {
    let lower: string | undefined;
    for (const [k, v] of this.own) {
      if (k === name) return v;
      if (k.length !== name.length) continue;
      lower ??= name.toLowerCase();
      if (k.toLowerCase() === lower) return v;
    }
    return undefined;
  }
}

/*
 * A parsed file keeps offsets into its text instead of one [name, value] tuple and string per
 * field: a Packages file has ~1.2M fields, and allocating them all up front made the parse
 * GC-bound (~3x slower, ~130 MB more heap). Values are sliced when asked for.
 */
const INTS_PER_FIELD = 5; // name id, then value as text[a, b) + text[c, d), or a = -1 - index in `joined`

class ParsedText {
  /** Query name → ids of the field names equal to it case-insensitively. */
  private readonly idsByQuery = new Map<string, number[]>();

  constructor(
    readonly text: string,
    readonly names: string[],
    readonly offs: Int32Array,
    /** Values interrupted by comment lines, which are not one contiguous piece of text. */
    readonly joined: string[],
  ) {}

  value(field: number): string {
    const o = this.offs;
    const b = field * INTS_PER_FIELD;
    const a = o[b + 1]!;
    if (a < 0) return this.joined[-1 - a]!;
    const first = this.text.slice(a, o[b + 2]!);
    const c = o[b + 3]!;
    return c < 0 ? first : first + this.text.slice(c, o[b + 4]!);
  }

  find(name: string, first: number, count: number): number {
    let ids = this.idsByQuery.get(name);
    if (ids === undefined) {
      const lower = name.toLowerCase();
      ids = [];
      for (let i = 0; i < this.names.length; i++) if (this.names[i]!.toLowerCase() === lower) ids.push(i);
      this.idsByQuery.set(name, ids);
    }
    if (ids.length === 0) return -1;
    const o = this.offs;
    const end = first + count;
    if (ids.length === 1) {
      const id = ids[0]!;
      for (let f = first; f < end; f++) if (o[f * INTS_PER_FIELD] === id) return f;
      return -1;
    }
    for (let f = first; f < end; f++) if (ids.includes(o[f * INTS_PER_FIELD]!)) return f;
    return -1;
  }
}

class ParsedParagraph extends Paragraph {
  private materialized: [string, string][] | undefined;

  constructor(
    private readonly src: ParsedText,
    private readonly first: number,
    private readonly count: number,
  ) {
    super([]);
  }

  override get fields(): [string, string][] {
    if (this.materialized === undefined) {
      const out: [string, string][] = [];
      for (let f = this.first; f < this.first + this.count; f++) {
        out.push([this.src.names[this.src.offs[f * INTS_PER_FIELD]!]!, this.src.value(f)]);
      }
      this.materialized = out;
    }
    return this.materialized;
  }

  override get(name: string): string | undefined {
    const f = this.src.find(name, this.first, this.count);
    return f < 0 ? undefined : this.src.value(f);
  }
}

function isBlankLine(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== CR) return false;
  }
  return true;
}

function malformed(source: string, lineNo: number, line: string, why: string): UserError {
  const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
  return new UserError(
    `${source}:${lineNo}: ${why} (got ${JSON.stringify(shown)}); ` +
      'this is not a valid Debian control file: check that the URL or path points to the file itself, not an error page, and fetch it again',
  );
}

/**
 * Parse paragraphs separated by blank (or whitespace-only) lines; `#` lines are comments.
 * Scans with indexOf/charCodeAt rather than a regex per line: a Packages file has ~1.5M lines.
 */
export function parseDeb822(text: string, source = 'control data'): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  const nameIds = new Map<string, number>();
  const names: string[] = [];
  const joined: string[] = [];
  let offs = new Int32Array(Math.max(64, Math.ceil(text.length / 32)) * INTS_PER_FIELD);
  let nFields = 0;
  let paraStart = 0;
  const paragraphStarts: number[] = [];

  // The open field: name id (-1 for none), first line text[vs, ve), continuation text[segStart, segEnd),
  // the end of its last line, and the already-joined prefix when a comment split it.
  let id = -1;
  let vs = 0;
  let ve = 0;
  let segStart = -1;
  let segEnd = -1;
  let lastEnd = 0;
  let joinedHead: string | undefined;

  const len = text.length;
  let pos = 0;
  let lineNo = 0;

  const flushField = (): void => {
    if (nFields * INTS_PER_FIELD === offs.length) {
      const grown = new Int32Array(offs.length * 2);
      grown.set(offs);
      offs = grown;
    }
    const b = nFields * INTS_PER_FIELD;
    offs[b] = id;
    if (joinedHead !== undefined) {
      joined.push(joinedHead + (segStart < 0 ? '' : text.slice(segStart, segEnd)));
      offs[b + 1] = -joined.length;
    } else {
      offs[b + 1] = vs;
      offs[b + 2] = ve;
      offs[b + 3] = segStart;
      offs[b + 4] = segEnd;
    }
    nFields++;
    id = -1;
  };
  const flushParagraph = (): void => {
    if (id >= 0) flushField();
    if (nFields > paraStart) {
      paragraphStarts.push(paraStart, nFields - paraStart);
      paraStart = nFields;
    }
  };

  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = len;
    lineNo++;
    const c = text.charCodeAt(pos);

    if (c === SPACE || c === TAB || c === CR || pos === end) {
      if (isBlankLine(text, pos, end)) {
        flushParagraph();
      } else {
        if (id < 0) throw malformed(source, lineNo, text.slice(pos, end), 'continuation line before any field');
        if (pos - 1 !== lastEnd) {
          // A comment line split the value: join what we have, continue with a new segment.
          const sofar = text.slice(vs, ve) + (segStart < 0 ? '' : text.slice(segStart, segEnd));
          joinedHead = (joinedHead ?? '') + sofar;
          vs = ve = 0;
          segStart = pos - 1;
        } else if (segStart < 0) {
          // Contiguous with the first line: one slice covers both, unless its end was trimmed.
          if (ve === lastEnd) ve = end;
          else segStart = lastEnd;
        }
        if (segStart >= 0) segEnd = end;
        lastEnd = end;
      }
    } else if (c !== HASH) {
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon >= end || colon === pos) {
        throw malformed(source, lineNo, text.slice(pos, end), 'expected "Field: value"');
      }
      const raw = text.slice(pos, colon);
      let nid = nameIds.get(raw);
      if (nid === undefined) {
        // Checked once per distinct name, not once per line.
        for (let i = 0; i < raw.length; i++) {
          const ch = raw.charCodeAt(i);
          if (ch === SPACE || ch === TAB) {
            throw malformed(source, lineNo, text.slice(pos, end), 'field names cannot contain spaces');
          }
        }
        nid = names.length;
        names.push(raw);
        nameIds.set(raw, nid);
      }
      if (id >= 0) flushField();
      id = nid;
      vs = colon + 1;
      ve = end;
      while (vs < ve && (text.charCodeAt(vs) === SPACE || text.charCodeAt(vs) === TAB)) vs++;
      while (ve > vs) {
        const ch = text.charCodeAt(ve - 1);
        if (ch !== SPACE && ch !== TAB && ch !== CR) break;
        ve--;
      }
      segStart = -1;
      segEnd = -1;
      lastEnd = end;
      joinedHead = undefined;
    }
    pos = end + 1;
  }
  flushParagraph();

  const parsed = new ParsedText(text, names, offs.slice(0, nFields * INTS_PER_FIELD), joined);
  for (let i = 0; i < paragraphStarts.length; i += 2) {
    paragraphs.push(new ParsedParagraph(parsed, paragraphStarts[i]!, paragraphStarts[i + 1]!));
  }
  return paragraphs;
}

/**
 * One paragraph as "Name: value\n" lines, without the blank separator line (join paragraphs with "\n").
 * A value whose first line is empty (e.g. "Conffiles:") is written without the space after the colon.
 */
export function formatParagraph(fields: [string, string][]): string {
  let out = '';
  for (const [name, value] of fields) {
    out += value === '' || value.charCodeAt(0) === 10 ? `${name}:${value}\n` : `${name}: ${value}\n`;
  }
  return out;
}
