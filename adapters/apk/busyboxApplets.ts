/**
 * The applet links `busybox --install -s` makes, read from the busybox binary itself.
 *
 * Alpine's busybox package ships only bin/busybox; its trigger runs `busybox --install -s`,
 * which links every applet into the directory the build configured for it. layerpkg runs
 * nothing from the image, so it reads the two tables the installer uses:
 *   - applet_names: the sorted applet names as one NUL-separated string, "[\0[[\0acpid\0...",
 *     ending with an empty name (the C literal's own terminating NUL);
 *   - applet_install_loc: one 4-bit location per applet, two per byte, low nibble first
 *     (1 = /bin, 2 = /sbin, 3 = /usr/bin, 4 = /usr/sbin), placed near the names by the linker.
 * The location table has no marker, so it is recognized by shape: ceil(N/2) bytes whose N
 * nibbles are all 1..4 (and whose padding nibble is 0 when N is odd). Only an unambiguous
 * match is trusted.
 */

const NAMES_START = Buffer.from('[\0[[\0', 'latin1');
/** Install directories by location nibble; 0 (the root directory) is not used by Alpine. */
const INSTALL_DIRS: readonly (string | undefined)[] = [undefined, 'bin', 'sbin', 'usr/bin', 'usr/sbin'];
/** How far from the names table the location table may lie. */
const SEARCH_WINDOW = 8 * 1024;
/** Far more applets than any busybox has: bounds the names scan on a false start. */
const MAX_APPLETS = 2000;
const APPLET_NAME = /^[\x21-\x7e]{1,64}$/;

interface NamesTable {
  names: string[];
  /** Offset just past the table's final empty name. */
  end: number;
}

function readNames(binary: Buffer, start: number): NamesTable | undefined {
  const names: string[] = [];
  let pos = start;
  while (names.length <= MAX_APPLETS) {
    const nul = binary.indexOf(0, pos);
    if (nul < 0) return undefined;
    if (nul === pos) break; // the empty name ends the table
    const name = binary.toString('latin1', pos, nul);
    if (!APPLET_NAME.test(name) || name.includes('/')) return undefined;
    // The installer's table is sorted (busybox looks applets up by binary search).
    if (names.length > 0 && !(names[names.length - 1]! < name)) return undefined;
    names.push(name);
    pos = nul + 1;
  }
  return names.length > MAX_APPLETS ? undefined : { names, end: pos + 1 };
}

/** The N locations stored at `offset`, or undefined if the bytes there are not such a table. */
function locationsAt(binary: Buffer, offset: number, count: number): number[] | undefined {
  const locations: number[] = [];
  for (let i = 0; i < count; i++) {
    const nibble = (binary[offset + (i >> 1)]! >> ((i & 1) * 4)) & 0x0f;
    if (nibble < 1 || nibble > 4) return undefined;
    locations.push(nibble);
  }
  if (count % 2 === 1 && binary[offset + (count >> 1)]! >> 4 !== 0) return undefined;
  return locations;
}

/** Every offset near the names table holding a plausible location table. */
function locationTables(binary: Buffer, table: NamesTable, start: number): number[][] {
  const count = table.names.length;
  const length = Math.ceil(count / 2);
  const found: number[][] = [];
  const first = Math.max(0, start - SEARCH_WINDOW);
  const last = Math.min(binary.length - length, table.end + SEARCH_WINDOW);
  for (let offset = first; offset <= last; offset++) {
    if (offset + length > start && offset < table.end) continue; // inside the names themselves
    const locations = locationsAt(binary, offset, count);
    if (locations) found.push(locations);
  }
  return found;
}

/**
 * The applet links of a busybox binary as sorted relative paths ("bin/ash", "usr/bin/wget"),
 * or undefined when its tables cannot be found unambiguously (another build, no installer).
 */
export function busyboxApplets(binary: Buffer): string[] | undefined {
  const candidates: string[][] = [];
  for (let at = binary.indexOf(NAMES_START); at >= 0; at = binary.indexOf(NAMES_START, at + 1)) {
    const table = readNames(binary, at);
    if (!table || table.names.length < 2) continue;
    for (const locations of locationTables(binary, table, at)) {
      candidates.push(table.names.map((name, i) => `${INSTALL_DIRS[locations[i]!]!}/${name}`));
    }
  }
  if (candidates.length !== 1) return undefined;
  return candidates[0]!.sort();
}
