// When Chatty asks for attention: a message from someone else while the window (or the browser
// tab) is not in front raises the unread count and shows a notification — saying so when it
// mentions the user or is for them only; bringing the window to the front clears the count.
// A muted public chat neither counts nor notifies; a mention or a direct message always does.
// Plain logic: the desktop app's main.ts and the page's browser-attention.ts apply what it decides.
import type { SessionEvent } from './bridge.js';
import { mentions } from './chat-state.js';
import { formatBytes } from './files.js';

export interface AttentionUpdate {
  unread: number;
  /** The window title that shows the count. */
  title: string;
  notification?: { title: string; body: string };
  /** For the user (a mention, a direct message or file to them): the desktop flashes its taskbar button. */
  urgent?: boolean;
}

const NOTIFICATION_BODY_MAX = 200;

export class Attention {
  #unread = 0;
  #mutePublic = false;

  setMutePublic(muted: boolean): void {
    this.#mutePublic = muted;
  }

  /** @param me the user, to leave out their own messages (names are unique across the set, whatever server one is on) */
  onEvent(event: SessionEvent, focused: boolean, me: { name: string } | undefined): AttentionUpdate | undefined {
    if (event.kind !== 'frame' || focused) return undefined;
    const { frame } = event;
    if (frame.type !== 'message' && frame.type !== 'direct' && frame.type !== 'file') return undefined;
    const { name } = frame;
    if (me && name === me.name) return undefined;
    const text = frame.type === 'file' ? `shared ${frame.file.name} (${formatBytes(frame.file.size)})` : frame.text;
    const toMe = frame.type === 'direct' || (frame.type === 'file' && frame.to !== undefined);
    const mentioned = !toMe && frame.type !== 'file' && me !== undefined && mentions(frame.text, me.name);
    if (this.#mutePublic && !toMe && !mentioned) return undefined;
    this.#unread++;
    const why = toMe ? ' (to you only)' : mentioned ? ' mentioned you' : '';
    const title = `Chatty: ${name}${why}`;
    return {
      ...this.#counts(),
      notification: { title, body: text.length > NOTIFICATION_BODY_MAX ? `${text.slice(0, NOTIFICATION_BODY_MAX - 1)}…` : text },
      ...(toMe || mentioned ? { urgent: true } : {}),
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
