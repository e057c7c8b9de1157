// The files people share, on this server's disk: `<data>/files/<sha256>`, or a folder of its own
// in the system's temp folder (removed at close) for a server that keeps nothing. Bytes are
// streamed in, hashed on the way, and only a complete file gets its name: an upload over the
// limit, cut half-way, or a fetched copy whose hash is wrong leaves nothing behind.
import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  type ReadStream,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';

/** Partly received files start with this; whatever a killed server left of them is removed at open. */
const PARTIAL = '.partial-';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** How often a body's pace is checked against its minimum rate. */
export const PACE_WINDOW_MS = 15_000;

export interface Received {
  hash: string;
  size: number;
}

export class FileStore {
  readonly folder: string;
  readonly #temporary: boolean;
  /** Fetches under way, by hash: two downloads of a missing file fetch it once. */
  readonly #fetching = new Map<string, Promise<boolean>>();
  #bytes = 0;

  /** @param data the server's data folder, or undefined for a temporary folder */
  constructor(data: string | undefined) {
    this.#temporary = data === undefined;
    this.folder = data === undefined ? mkdtempSync(join(tmpdir(), 'chatty-files-')) : join(data, 'files');
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.folder)) {
      if (name.startsWith(PARTIAL)) rmSync(join(this.folder, name), { force: true });
      else if (SHA256_HEX.test(name)) this.#bytes += statSync(join(this.folder, name)).size;
    }
  }

  /** Bytes of the files held here: the disk they take (what the total upload quota counts). */
  get bytes(): number {
    return this.#bytes;
  }

  has(hash: string): boolean {
    return SHA256_HEX.test(hash) && existsSync(join(this.folder, hash));
  }

  /** The file's bytes and size, or undefined when this server does not hold it. */
  open(hash: string): { stream: ReadStream; size: number } | undefined {
    if (!this.has(hash)) return undefined;
    const path = join(this.folder, hash);
    return { stream: createReadStream(path), size: statSync(path).size };
  }

  /**
   * Take a file from `body`, at most `maxBytes` of it; `expect` (a fetched copy) must match in
   * size and hash. A body slower than `minBytesPerSecond` over a PACE_WINDOW_MS window is cut.
   * Nothing is kept unless every byte came and matched.
   */
  async receive(body: Readable, maxBytes: number, expect?: { hash: string; size: number }, minBytesPerSecond = 0): Promise<Result<Received>> {
    const partial = join(this.folder, `${PARTIAL}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    let tooLarge = false;
    let tooSlow = false;
    let sizeBefore = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          tooLarge = true;
          return done(new Error('too large'));
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // Cut as an over-large body is (the stream in the middle fails), so the sender still gets an answer.
    const pace =
      minBytesPerSecond > 0
        ? setInterval(() => {
            const paced = size - sizeBefore >= (minBytesPerSecond * PACE_WINDOW_MS) / 1000;
            sizeBefore = size;
            if (paced) return;
            tooSlow = true;
            count.destroy(new Error('too slow'));
          }, PACE_WINDOW_MS)
        : undefined;
    try {
      await pipeline(body, count, createWriteStream(partial, { mode: 0o600 }));
    } catch (err) {
      rmSync(partial, { force: true });
      if (tooLarge) return fail(ErrorCode.FILE_TOO_LARGE, `the file is larger than ${maxBytes} bytes, the most this server takes`);
      if (tooSlow) {
        return fail(
          ErrorCode.UPLOAD_INCOMPLETE,
          `the file came slower than ${minBytesPerSecond} bytes a second for ${PACE_WINDOW_MS / 1000} s and was cut off; nothing was kept`,
        );
      }
      return fail(ErrorCode.UPLOAD_INCOMPLETE, `the file did not arrive whole (${(err as Error).message}); nothing was kept`);
    } finally {
      clearInterval(pace);
    }
    // An HTTP body that was cut short can also end "cleanly": the caller compares with what was announced.
    if ((body as { complete?: boolean }).complete === false) {
      rmSync(partial, { force: true });
      return fail(ErrorCode.UPLOAD_INCOMPLETE, 'the file did not arrive whole; nothing was kept');
    }
    const digest = hash.digest('hex');
    if (expect && (expect.hash !== digest || expect.size !== size)) {
      rmSync(partial, { force: true });
      return fail(ErrorCode.UPLOAD_INCOMPLETE, 'the copy fetched does not match the file that was shared');
    }
    const final = join(this.folder, digest);
    if (existsSync(final)) unlinkSync(partial);
    else {
      renameSync(partial, final);
      this.#bytes += size;
    }
    return ok({ hash: digest, size });
  }

  /** Run `fetch` for a file this server lacks, once however many ask at the same time. */
  fetchOnce(hash: string, fetch: () => Promise<boolean>): Promise<boolean> {
    let running = this.#fetching.get(hash);
    if (!running) {
      running = fetch().finally(() => this.#fetching.delete(hash));
      this.#fetching.set(hash, running);
    }
    return running;
  }

  /**
   * Let go of a file no event in the history shares any more (true when it is gone): nobody can download it from here
   * (a download names its event), so its bytes are only disk used. A file still being read keeps
   * its bytes until it is closed (POSIX); one that cannot be removed now (in use, on Windows) is
   * left to the sweep of a later start (keepOnly).
   */
  remove(hash: string): boolean {
    if (!SHA256_HEX.test(hash)) return false;
    const path = join(this.folder, hash);
    try {
      const size = existsSync(path) ? statSync(path).size : 0;
      rmSync(path, { force: true });
      this.#bytes -= size;
      return true;
    } catch {
      return false; // in use: left to a later start's sweep
    }
  }

  /**
   * Remove the files not in `keep` that were last written before `before` (ms since the epoch): at
   * start, what an earlier run's history let go of but could not remove. A younger one may be
   * shared by an event the history will get back from its peers (a server killed before it wrote
   * the event down): it stays. How many went.
   */
  keepOnly(keep: ReadonlySet<string>, before: number): number {
    let removed = 0;
    for (const name of readdirSync(this.folder)) {
      if (!SHA256_HEX.test(name) || keep.has(name) || statSync(join(this.folder, name)).mtimeMs >= before) continue;
      if (this.remove(name)) removed++;
    }
    return removed;
  }

  /** A temporary folder goes with the server; a data folder's files stay for its next run. */
  close(): void {
    if (this.#temporary) rmSync(this.folder, { recursive: true, force: true });
  }
}
