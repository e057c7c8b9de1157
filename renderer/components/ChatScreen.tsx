import { useSignal } from '@preact/signals';
import type { Model } from '../model.js';
import { BuddyList } from './BuddyList.js';
import { Composer } from './Composer.js';
import { StatusBar } from './StatusBar.js';
import { Timeline } from './Timeline.js';
import { droppedFiles } from './files-in.js';

export function ChatScreen({ model }: { model: Model }) {
  const dragging = useSignal(false);
  const dropError = useSignal('');
  return (
    // Files dropped anywhere on the chat are shared in the conversation shown.
    <div
      class={`chat${dragging.value ? ' dragging' : ''}`}
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes('Files')) return;
        e.preventDefault();
        dragging.value = true;
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) dragging.value = false;
      }}
      onDrop={(e) => {
        const files = droppedFiles(e.dataTransfer);
        dragging.value = false;
        if (files.length === 0) return;
        e.preventDefault();
        const shared = model.sendFiles(files);
        dropError.value = shared.ok ? '' : shared.error.message;
      }}
    >
      {dropError.value && (
        <p class="error drop-error" role="alert" data-testid="drop-error">
          {dropError.value}{' '}
          <button type="button" class="link" onClick={() => (dropError.value = '')}>
            Dismiss
          </button>
        </p>
      )}
      <StatusBar model={model} />
      <BuddyList model={model} />
      <Timeline model={model} />
      <Composer model={model} />
    </div>
  );
}
