// JSON as UTF-8 bytes: a frame's encoding (made once, kept by the history and sent as it is), and
// the items of a JSON array appended to in place. The welcome lists everyone and
// grows by a name per join: a welcome copies these bytes as they are, where building the text
// anew (or flattening a string grown by concatenation) cost five times more at 5,000 names.
/** A frame's JSON as bytes: what goes on the wire, and what the history counts. */
export function encode(frame: object): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

export class JsonList {
  #bytes = Buffer.allocUnsafe(256);
  #length = 0;

  constructor(items: Iterable<unknown> = []) {
    for (const item of items) this.push(item);
  }

  push(item: unknown): void {
    const text = JSON.stringify(item);
    const needed = this.#length + 1 + Buffer.byteLength(text);
    if (needed > this.#bytes.length) {
      // A new buffer, never a write over bytes handed out: an earlier welcome may still be queued.
      const grown = Buffer.allocUnsafe(needed * 2);
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    if (this.#length > 0) this.#bytes[this.#length++] = 0x2c; // ','
    this.#length += this.#bytes.write(text, this.#length);
  }

  /** The items, comma-separated, without the brackets. Later pushes write only past its end. */
  bytes(): Buffer {
    return this.#bytes.subarray(0, this.#length);
  }
}
