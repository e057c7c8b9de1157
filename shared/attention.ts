// When Chatty asks for attention: a message from someone else while the window (or the browser
// tab) is not in front raises the unread count and shows a notification — saying so when it
// mentions the user or is for them only; bringing the window to the front clears the count.
// Plain logic: the desktop app's main.ts and the page's browser-attention.ts apply what it decides.
import type { SessionEvent } from './bridge.js';
import { mentions } from './chat-state.js';

export interface AttentionUpdate {
  unread: number;
  /** The window title that shows the count. */
  title: string;
  notification?: { title: string; body: string };
}

const NOTIFICATION_BODY_MAX = 200;

export class Attention {
  #unread = 0;

  /** @param me the user, to leave out their own messages (names are unique across the set, whatever server one is on) */
  onEvent(event: SessionEvent, focused: boolean, me: { name: string } | undefined): AttentionUpdate | undefined {
    if (event.kind !== 'frame' || (event.frame.type !== 'message' && event.frame.type !== 'direct') || focused) return undefined;
    const { name, text } = event.frame;
    if (me && name === me.name) return undefined;
    this.#unread++;
    const why = event.frame.type === 'direct' ? ' (to you only)' : me && mentions(text, me.name) ? ' mentioned you' : '';
    const title = `Chatty: ${name}${why}`;
    return {
      ...this.#counts(),
      notification: { title, body: text.length > NOTIFICATION_BODY_MAX ? `${text.slice(0, NOTIFICATION_BODY_MAX - 1)}…` : text },
    };
  }

  onFocus(): AttentionUpdate {
    this.#unread = 0;
    return this.#counts();
  }

  #counts(): AttentionUpdate {
    return { unread: this.#unread, title: this.#unread > 0 ? `(${this.#unread}) Chatty` : 'Chatty' };
  }
}
