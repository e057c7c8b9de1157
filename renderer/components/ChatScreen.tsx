import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Model } from '../model.js';
import { BuddyList } from './BuddyList.js';
import { Composer } from './Composer.js';
import { StatusBar } from './StatusBar.js';
import { Timeline } from './Timeline.js';
import { droppedFiles } from './files-in.js';

export function ChatScreen({ model }: { model: Model }) {
  const dragging = useSignal(false);
  const dropError = useSignal('');
  const screen = useRef<HTMLDivElement>(null);
  // Files dropped anywhere on the chat are shared in the conversation shown (the paper clip in
  // the composer does the same from the keyboard).
  useEffect(() => {
    const el = screen.current;
    if (!el) return;
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      dragging.value = true;
    };
    const leave = (e: DragEvent) => {
      if (e.target === el) dragging.value = false;
    };
    const drop = (e: DragEvent) => {
      const files = droppedFiles(e.dataTransfer);
      dragging.value = false;
      if (files.length === 0) return;
      e.preventDefault();
      const shared = model.sendFiles(files);
      dropError.value = shared.ok ? '' : shared.error.message;
    };
    el.addEventListener('dragover', over);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    return () => {
      el.removeEventListener('dragover', over);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
    };
  }, [model]);
  return (
    <div ref={screen} class={`chat${dragging.value ? ' dragging' : ''}`}>
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
