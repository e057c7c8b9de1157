// What the desktop app does around its window, as plain logic main.ts wires to Electron: closing
// the window hides it to the tray (the chat, and a server this app hosts, keep running) and says so
// the first time; Quit leaves; a second launch brings the window back; the tray shows the unread
// count and offers Open, the status and Quit; a mention or a direct message flashes the taskbar
// button (bounces the dock on macOS); start-at-login follows the setting.
import type { AttentionUpdate } from '../shared/attention.js';
import type { SessionEvent } from '../shared/bridge.js';
import type { Status } from '../shared/protocol.js';

/** The parts of Electron's BrowserWindow the shell uses. */
export interface ShellWindow {
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isFocused(): boolean;
  flashFrame(flag: boolean): void;
}

/** The parts of Electron's app (and its Tray) the shell uses. */
export interface ShellPlatform {
  platform: NodeJS.Platform;
  quit(): void;
  setLoginItemSettings(settings: { openAtLogin: boolean }): void;
  /** macOS only. */
  bounceDock?(): void;
  notify(title: string, body: string): void;
  /** The tray icon's tooltip, and (macOS) the text beside it. */
  setTray(tooltip: string, title: string, menu: TrayItem[]): void;
}

export type TrayAction = 'open' | 'available' | 'away' | 'quit';

/** One tray menu entry, as plain data (main.ts turns it into an Electron MenuItem). */
export type TrayItem = { kind: 'separator' } | { kind: 'normal' | 'radio'; label: string; action: TrayAction; checked?: boolean; enabled?: boolean };

export interface ShellOptions {
  window: () => ShellWindow | undefined;
  platform: ShellPlatform;
  /** Whether the "still running in the tray" notice was shown already (kept with the settings). */
  closeNoticeShown: () => boolean;
  rememberCloseNotice: () => void;
  /** The user chose a status from the tray menu. */
  setStatus: (status: Status) => void;
}

export class DesktopShell {
  #quitting = false;
  #unread = 0;
  #status: Status | undefined;

  constructor(private readonly opts: ShellOptions) {
    this.#updateTray();
  }

  /** The window's close button. True: the window is hidden instead (the caller prevents the close). */
  onClose(): boolean {
    if (this.#quitting) return false;
    this.opts.window()?.hide();
    if (!this.opts.closeNoticeShown()) {
      this.opts.rememberCloseNotice();
      const where = this.opts.platform.platform === 'darwin' ? 'the menu bar' : 'the tray';
      this.opts.platform.notify('Chatty is still running', `Chatty keeps you in the chat from ${where}. Choose Quit there to leave.`);
    }
    return true;
  }

  /** Quit (from the tray, the app menu, or the system): the window may close now. */
  onQuit(): void {
    this.#quitting = true;
  }

  get quitting(): boolean {
    return this.#quitting;
  }

  /** A second launch, a click on the tray icon or (macOS) on the dock: the window, in front. */
  showWindow(): void {
    const window = this.opts.window();
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  }

  onTrayAction(action: TrayAction): void {
    switch (action) {
      case 'open':
        return this.showWindow();
      case 'available':
      case 'away':
        return this.opts.setStatus(action);
      case 'quit':
        this.#quitting = true;
        return this.opts.platform.quit();
    }
  }

  /** What the notifier decided (shared/attention.ts): the count in the tray, and a flash for what is for the user. */
  onAttention(update: AttentionUpdate | undefined): void {
    if (!update) return;
    this.#unread = update.unread;
    this.#updateTray();
    const window = this.opts.window();
    if (!update.urgent || window?.isFocused()) return;
    window?.flashFrame(true);
    this.opts.platform.bounceDock?.();
  }

  /** The window came to the front: the flash stops (the count is cleared by the notifier). */
  onFocus(): void {
    this.opts.window()?.flashFrame(false);
  }

  /** The user's presence as the chat says it (undefined: not in a chat). */
  setStatus(status: Status | undefined): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#updateTray();
  }

  /** Follow the user's presence as the chat tells it (`me`: the user's name while in a chat). */
  onSessionEvent(event: SessionEvent, me: string | undefined): void {
    if (event.kind === 'status' && event.status === 'idle') return this.setStatus(undefined);
    if (event.kind !== 'frame') return;
    const frame = event.frame;
    if (frame.type === 'welcome') this.setStatus(frame.away?.includes(frame.name) ? 'away' : 'available');
    else if (frame.type === 'presence' && frame.name === me) this.setStatus(frame.status);
    else if (frame.type === 'exit') this.setStatus(undefined);
  }

  setStartAtLogin(on: boolean): void {
    this.opts.platform.setLoginItemSettings({ openAtLogin: on });
  }

  /** The tray menu as it is now. */
  menu(): TrayItem[] {
    const inChat = this.#status !== undefined;
    return [
      { kind: 'normal', label: this.#unread > 0 ? `Open Chatty (${this.#unread} unread)` : 'Open Chatty', action: 'open' },
      { kind: 'separator' },
      { kind: 'radio', label: 'Available', action: 'available', checked: this.#status === 'available', enabled: inChat },
      { kind: 'radio', label: 'Away', action: 'away', checked: this.#status === 'away', enabled: inChat },
      { kind: 'separator' },
      { kind: 'normal', label: 'Quit Chatty', action: 'quit' },
    ];
  }

  #updateTray(): void {
    const tooltip = this.#unread > 0 ? `Chatty — ${this.#unread} unread` : 'Chatty';
    this.opts.platform.setTray(tooltip, this.#unread > 0 ? String(this.#unread) : '', this.menu());
  }
}
