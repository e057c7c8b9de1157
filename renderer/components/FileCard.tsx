// A shared file in the timeline: its name, size and type, a thumbnail when it is a picture (raster
// types only: an SVG or an HTML file is never rendered), and Download with its progress.
import { formatBytes } from '../../shared/files.js';
import type { TimelineEntry } from '../../shared/chat-state.js';
import { useRef } from 'preact/hooks';
import type { Model } from '../model.js';

export function FileCard({ entry, model }: { entry: Extract<TimelineEntry, { kind: 'message' }>; model: Model }) {
  const file = entry.file!;
  const picture = model.picture(entry);
  const transfer = model.transfers.value[entry.id];
  const viewer = useRef<HTMLDialogElement>(null);
  return (
    <div class="file" data-testid="file">
      {/* The slot has its height before the picture comes, so the timeline does not jump; a click opens it large. */}
      {model.hasPicture(entry) && (
        <button type="button" class="thumbnail-slot" data-testid="thumbnail-slot" aria-label={`View ${file.name}`} onClick={() => viewer.current?.showModal()}>
          {picture && <img class="thumbnail" data-testid="thumbnail" src={picture} alt={file.name} />}
        </button>
      )}
      <div class="file-line">
        <span class="file-name" data-testid="file-name">
          <bdi>{file.name}</bdi>
        </span>{' '}
        <span class="file-meta">
          {formatBytes(file.size)} · {file.type}
        </span>{' '}
        <button
          type="button"
          class="link"
          data-testid="download"
          disabled={transfer !== undefined && !transfer.error}
          onClick={() => void model.downloadFile(entry)}
        >
          Download
        </button>
      </div>
      {transfer && !transfer.error && (
        <div class="transfer">
          <progress
            data-testid="download-progress"
            max={1}
            value={Number.isNaN(transfer.progress) ? undefined : transfer.progress}
            aria-label={`Downloading ${file.name}`}
          />
          <span>Downloading…{Number.isNaN(transfer.progress) ? '' : ` ${Math.round(transfer.progress * 100)} %`}</span>{' '}
          <button type="button" class="link" data-testid="download-cancel" onClick={() => model.cancelTransfer(entry.id)}>
            Cancel
          </button>
        </div>
      )}
      {transfer?.error && (
        <p class="error" role="alert" data-testid="file-error">
          {transfer.error}{' '}
          <button type="button" class="link" onClick={() => model.dismissTransfer(entry.id)}>
            Dismiss
          </button>
        </p>
      )}
      {picture && (
        // A modal dialog: Escape closes it, focus returns to the thumbnail; a click outside the picture closes it too.
        // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard closes a modal <dialog> with Escape (and its Close button)
        <dialog
          ref={viewer}
          class="viewer"
          data-testid="viewer"
          aria-label={file.name}
          onClick={(e) => e.target === e.currentTarget && e.currentTarget.close()}
        >
          <img src={picture} alt={file.name} />
          <form method="dialog">
            <button type="submit" data-testid="viewer-close">
              Close
            </button>
          </form>
        </dialog>
      )}
    </div>
  );
}
