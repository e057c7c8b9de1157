import { useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Model } from '../model.js';
import { BuddyList } from './BuddyList.js';
import { Composer } from './Composer.js';
import { StatusBar } from './StatusBar.js';
import { Timeline } from './Timeline.js';
import { droppedFiles } from './files-in.js';
import { plainStatus } from './format.js';
import { JumpTo } from './JumpTo.js';

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
  // Ctrl/Cmd+K: go to a conversation; Ctrl/Cmd+F: search the chat (as in Slack and VS Code).
  const jumping = useSignal(false);
  useEffect(() => {
    const run = (command: 'jump' | 'search'): boolean => {
      if (command === 'jump') {
        jumping.value = true;
        return true;
      }
      const search = document.querySelector<HTMLInputElement>('[data-testid="search"]');
      search?.focus();
      search?.select();
      return search !== null;
    };
    const keys = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
      const command = e.key === 'k' || e.key === 'K' ? 'jump' : e.key === 'f' || e.key === 'F' ? 'search' : undefined;
      if (command && run(command)) e.preventDefault();
    };
    window.addEventListener('keydown', keys);
    // The app's menu offers the same (its accelerators are shown there, and handled here).
    const unsubscribe = model.onCommand(run);
    return () => {
      window.removeEventListener('keydown', keys);
      unsubscribe();
    };
  }, [model]);
  const drawer = model.drawerOpen.value;
  // The open drawer (narrow screens) is modal: Escape closes it, and what it covers is inert, so
  // Tab and screen readers stay in it. Listening from the render that opened it (a layout effect):
  // a plain effect waits for a painted frame, and an Escape pressed before it was lost.
  useLayoutEffect(() => {
    if (!drawer) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      model.drawerOpen.value = false;
      // Once what it covered is live again (the next frame), back to the button that opened it.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="buddies-toggle"]')?.focus());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawer]);
  return (
    <div ref={screen} class={`chat${dragging.value ? ' dragging' : ''}${drawer ? ' drawer-open' : ''}`}>
      {dropError.value && (
        <p class="error drop-error" role="alert" data-testid="drop-error">
          {dropError.value}{' '}
          <button type="button" class="link" onClick={() => (dropError.value = '')}>
            Dismiss
          </button>
        </p>
      )}
      <StatusBar model={model} covered={drawer} />
      <ConnectionBanner model={model} />
      <BuddyList model={model} />
      {drawer && <button type="button" class="drawer-scrim" aria-label="Close the buddy list" onClick={() => (model.drawerOpen.value = false)} />}
      <Timeline model={model} covered={drawer} />
      <Composer model={model} covered={drawer} />
      {jumping.value && <JumpTo model={model} close={() => (jumping.value = false)} />}
    </div>
  );
}

/** While the connection is down, a banner says so in plain words (the detail on hover), for as long as it lasts. */
function ConnectionBanner({ model }: { model: Model }) {
  const { status, statusDetail } = model.state.value;
  if (status !== 'reconnecting' && status !== 'disconnected') return null;
  return (
    <p class={`banner ${status}`} role="alert" data-testid="connection-banner" title={statusDetail}>
      {plainStatus(status)}
    </p>
  );
}
