// Attention in a plain browser (the app's main process does this for the desktop): while the tab
// is not in front, messages from others count in the tab's title, `(3) Chatty`, and show a
// system notification if the person allowed them. Permission is asked for on a click (joining),
// never on load, as browsers want.
import { Attention, type AttentionUpdate } from '../shared/attention.js';
import type { ChattyApi } from '../shared/bridge.js';

export function watchAttention(api: ChattyApi, me: () => string | undefined): { askPermission(): void; setMutePublic(muted: boolean): void } {
  const attention = new Attention();
  const inFront = () => !document.hidden && document.hasFocus();
  const apply = (update: AttentionUpdate | undefined) => {
    if (!update) return;
    document.title = update.title;
    if (update.notification && 'Notification' in window && Notification.permission === 'granted') {
      new Notification(update.notification.title, { body: update.notification.body });
    }
  };
  api.subscribe((event) => {
    const name = me();
    apply(attention.onEvent(event, inFront(), name === undefined ? undefined : { name }));
  });
  const back = () => {
    if (inFront()) apply(attention.onFocus());
  };
  window.addEventListener('focus', back);
  document.addEventListener('visibilitychange', back);
  return {
    setMutePublic: (muted) => attention.setMutePublic(muted),
    askPermission() {
      if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
    },
  };
}
