/**
 * Edits spliced onto the received bytes (Kamailio's "lumps"): each edit replaces the byte range
 * [start, end) of the original message with new text; an insertion has start === end.
 * Untouched bytes are copied as they are, so unedited headers go out byte-identical.
 */

export interface Edit {
  start: number;
  end: number;
  data: string | Buffer;
  /** Ordering among insertions at the same offset: lower goes first. */
  order: number;
  /** Edits with the same key replace each other (e.g. the Request-URI is set once). */
  key: string | undefined;
}

export class EditList {
  readonly items: Edit[] = [];
  private seq = 0;
  /**
   * How many edits were made without the promise that the message still parses (free header
   * text, a removed line): a proxy parses what it relays only when some were (`sound` edits:
   * a number, an address, a validated R-URI, a popped Route).
   */
  unsound = 0;

  get size(): number {
    return this.items.length;
  }

  /** Replace [start, end) with data. A keyed edit replaces an earlier one with the same key. */
  replace(start: number, end: number, data: string | Buffer, key?: string, sound = false): void {
    if (!sound) this.unsound++;
    if (key !== undefined) {
      const i = this.indexOfKey(key);
      if (i >= 0) this.items.splice(i, 1);
    }
    this.items.push({ start, end, data, order: ++this.seq, key });
  }

  /** Insert at offset; `first` puts it before every insertion already made at that offset. */
  insert(at: number, data: string | Buffer, first = false, sound = false): void {
    if (!sound) this.unsound++;
    const order = first ? -++this.seq : ++this.seq;
    this.items.push({ start: at, end: at, data, order, key: undefined });
  }

  remove(start: number, end: number): void {
    this.unsound++;
    this.items.push({ start, end, data: '', order: ++this.seq, key: undefined });
  }

  has(key: string): boolean {
    return this.indexOfKey(key) >= 0;
  }

  private indexOfKey(key: string): number {
    const items = this.items;
    for (let i = 0; i < items.length; i++) if (items[i].key === key) return i;
    return -1;
  }

  clear(): void {
    this.items.length = 0;
    this.unsound = 0;
  }
}

/** Remove, among the first `n` edits (earlier lists'), those with this key; how many went. */
function dropKey(edits: Edit[], n: number, key: string): number {
  let w = 0;
  let r = 0;
  for (; r < n; r++) {
    const x = edits[r];
    if (x.key !== key) edits[w++] = x;
  }
  const removed = r - w;
  if (removed === 0) return 0;
  // Shift what follows (edits of the current list already pushed) down over the gap.
  for (; r < edits.length; r++) edits[w++] = edits[r];
  edits.length = w;
  return removed;
}

function compareEdits(a: Edit, b: Edit): number {
  if (a.start !== b.start) return a.start - b.start;
  // At one offset insertions come before the replacement that starts there.
  const ai = a.start === a.end ? 0 : 1;
  const bi = b.start === b.end ? 0 : 1;
  if (ai !== bi) return ai - bi;
  return a.order - b.order;
}

/**
 * Apply edits to src[from, to) and return the new bytes. Overlapping edits: the earliest
 * (by offset) wins and an edit that starts inside an already-replaced range is dropped.
 */
export function applyEdits(
  src: Buffer,
  from: number,
  to: number,
  lists: ReadonlyArray<EditList | null | undefined>,
): Buffer {
  const whole = from === 0 && to === src.length;
  const edits: Edit[] = [];
  for (let li = 0; li < lists.length; li++) {
    const l = lists[li];
    if (l === null || l === undefined || l.items.length === 0) continue;
    let base = edits.length;
    for (const e of l.items) {
      // A keyed edit in a later list (a branch's Request-URI) overrides the same key in earlier ones.
      if (base > 0 && e.key !== undefined) base -= dropKey(edits, base, e.key);
      // Serializing a part of the message (a header line copied into a response) keeps its own edits only.
      if (whole || (e.start >= from && e.end <= to)) edits.push(e);
    }
  }
  if (edits.length === 0) return whole ? src : src.subarray(from, to);
  // Few edits per message: insertion sort is cheaper than Array.prototype.sort's setup.
  for (let i = 1; i < edits.length; i++) {
    const e = edits[i];
    let j = i - 1;
    while (j >= 0 && compareEdits(edits[j], e) > 0) {
      edits[j + 1] = edits[j];
      j--;
    }
    edits[j + 1] = e;
  }
  let size = 0;
  let pos = from;
  for (const e of edits) {
    if (e.start < pos) continue;
    size += e.start - pos;
    size += typeof e.data === 'string' ? Buffer.byteLength(e.data) : e.data.length;
    pos = e.end;
  }
  size += to - pos;
  const out = Buffer.allocUnsafe(size);
  let w = 0;
  pos = from;
  for (const e of edits) {
    if (e.start < pos) continue;
    if (e.start > pos) w += src.copy(out, w, pos, e.start);
    if (typeof e.data === 'string') {
      if (e.data.length > 0) w += out.write(e.data, w);
    } else {
      w += e.data.copy(out, w);
    }
    pos = e.end;
  }
  if (pos < to) w += src.copy(out, w, pos, to);
  return out;
}
