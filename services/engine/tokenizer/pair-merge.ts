/**
 * The merge loop SentencePiece-BPE and byte-level BPE share: repeatedly merge the adjacent pair of
 * symbols with the best score (leftmost on ties) until no pair scores. A heap of candidate pairs
 * with per-symbol versions (a candidate is stale once either side changed) makes it O(n log n),
 * so a long word without spaces (minified code, base64) costs little.
 */
interface Candidate {
  score: number;
  left: number;
  right: number;
  leftVersion: number;
  rightVersion: number;
}

/** best score first, then leftmost position */
function before(a: Candidate, b: Candidate): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

class CandidateHeap {
  private items: Candidate[] = [];
  get size(): number {
    return this.items.length;
  }
  push(c: Candidate): void {
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): Candidate {
    const h = this.items;
    const top = h[0];
    const last = h.pop() as Candidate;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

export interface MergedSymbol {
  /** index of the symbol's first original symbol */
  first: number;
  text: string;
}

/**
 * `symbols` merged pairwise; `score(left, right)` is the merit of merging two adjacent symbol texts
 * (higher first), or undefined when they do not merge.
 */
export function mergePairs(symbols: readonly string[], score: (left: string, right: string) => number | undefined): MergedSymbol[] {
  const n = symbols.length;
  const text = [...symbols];
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new CandidateHeap();
  const consider = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const s = score(text[left], text[right]);
    if (s !== undefined) heap.push({ score: s, left, right, leftVersion: version[left], rightVersion: version[right] });
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
  while (heap.size > 0) {
    const c = heap.pop();
    const stale =
      !alive[c.left] ||
      !alive[c.right] ||
      next[c.left] !== c.right ||
      version[c.left] !== c.leftVersion ||
      version[c.right] !== c.rightVersion;
    if (stale) continue;
    text[c.left] += text[c.right];
    version[c.left]++;
    alive[c.right] = 0;
    next[c.left] = next[c.right];
    if (next[c.right] >= 0) prev[next[c.right]] = c.left;
    consider(prev[c.left], c.left);
    consider(c.left, next[c.left]);
  }
  const out: MergedSymbol[] = [];
  for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out.push({ first: i, text: text[i] });
  return out;
}
