// Files over HTTP from the page or the app's window (docs/protocol.md § Files): uploads and
// downloads with progress (XMLHttpRequest: fetch() reports no upload progress), the bytes checked
// against the event's hash, and saving through the browser's own download.
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';
import { sha256Hex } from '../shared/files.js';
import type { FileInfo } from '../shared/protocol.js';

/** Progress of a transfer, 0–1 (NaN while the size is not known). */
export type OnProgress = (fraction: number) => void;

/** What went wrong, for people: the server's own words when it said any (a JSON `{code, message}`). */
function failure(status: number, body: string, what: string): Result<never> {
  try {
    const said = JSON.parse(body) as { code?: string; message?: string };
    if (said.code && said.message) return fail(said.code as ErrorCode, said.message);
  } catch {
    // not JSON: a status or nothing at all
  }
  return fail(ErrorCode.UNREACHABLE, status ? `${what} failed (HTTP ${status})` : `${what} failed: the server could not be reached`);
}

/** A transfer stops when `signal` aborts (the person cancelled it): it then resolves with a failure nobody needs to show. */
function cancelWith(xhr: XMLHttpRequest, signal: AbortSignal | undefined, resolve: (r: Result<never>) => void): void {
  xhr.onabort = () => resolve(fail(ErrorCode.UNREACHABLE, 'cancelled'));
  signal?.addEventListener('abort', () => xhr.abort(), { once: true });
}

/** Upload `body` to `url`; resolves with the `file` event's id. */
export function upload(url: string, body: Blob, onProgress: OnProgress, signal?: AbortSignal): Promise<Result<{ id: string }>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    cancelWith(xhr, signal, resolve);
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', body.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.lengthComputable ? e.loaded / e.total : Number.NaN);
    xhr.onload = () => {
      if (xhr.status === 200 || xhr.status === 201) {
        const { id } = JSON.parse(xhr.responseText) as { id: string };
        resolve(ok({ id }));
      } else resolve(failure(xhr.status, xhr.responseText, 'The upload'));
    };
    xhr.onerror = () => resolve(failure(0, '', 'The upload'));
    xhr.send(body);
  });
}

/** Download the file at `url`; the bytes must be the ones `file` describes. */
export function download(url: string, file: FileInfo, onProgress: OnProgress, signal?: AbortSignal): Promise<Result<Blob>> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    cancelWith(xhr, signal, resolve);
    xhr.open('GET', url);
    xhr.responseType = 'arraybuffer';
    xhr.onprogress = (e) => onProgress(e.loaded / (e.lengthComputable ? e.total : file.size));
    xhr.onload = async () => {
      if (xhr.status !== 200) return resolve(failure(xhr.status, new TextDecoder().decode(xhr.response as ArrayBuffer), 'The download'));
      const bytes = new Uint8Array(xhr.response as ArrayBuffer);
      if (bytes.length !== file.size || (await sha256Hex(bytes)) !== file.hash) {
        return resolve(fail(ErrorCode.UPLOAD_INCOMPLETE, 'the file arrived damaged (its bytes are not the ones that were shared); try again'));
      }
      resolve(ok(new Blob([bytes], { type: file.type })));
    };
    xhr.onerror = () => resolve(failure(0, '', 'The download'));
    xhr.send();
  });
}

/** Hand `blob` to the browser's downloads as `name` (never opened, never rendered here). */
export function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
