// The desktop app's behaviour around its window (electron/desktop-shell.ts), under Node: Electron's
// window and app are stood in for by recorders (Electron is not our code; the logic is).
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../shared/bridge.js';
import { Attention } from '../shared/attention.js';
import { DesktopShell, type ShellWindow, type TrayItem } from '../electron/desktop-shell.js';
import { appMenuTemplate } from '../electron/app-menu.js';

function desktop(platform: NodeJS.Platform = 'linux') {
  const calls: string[] = [];
  const state = { minimized: false, focused: false, noticeShown: false };
  const window: ShellWindow = {
    show: () => calls.push('show'),
    hide: () => calls.push('hide'),
    focus: () => calls.push('focus'),
    restore: () => calls.push('restore'),
    isMinimized: () => state.minimized,
    isFocused: () => state.focused,
    flashFrame: (flag) => calls.push(`flash ${flag}`),
  };
  const tray: { tooltip: string; title: string; menu: TrayItem[] } = { tooltip: '', title: '', menu: [] };
  const statuses: string[] = [];
  const shell = new DesktopShell({
    window: () => window,
    platform: {
      platform,
      quit: () => calls.push('quit'),
      setLoginItemSettings: (s) => calls.push(`login ${s.openAtLogin}`),
      ...(platform === 'darwin' ? { bounceDock: () => calls.push('bounce') } : {}),
      notify: (title, body) => calls.push(`notify ${title}: ${body}`),
      setTray: (tooltip, title, menu) => Object.assign(tray, { tooltip, title, menu }),
    },
    closeNoticeShown: () => state.noticeShown,
    rememberCloseNotice: () => {
      state.noticeShown = true;
    },
    setStatus: (s) => statuses.push(s),
  });
  return { shell, calls, state, tray, statuses };
}

const S = 'wss://10.0.0.1:4000';
const frame = (f: object): SessionEvent => ({ kind: 'frame', frame: f as never });
const meta = (seq: number) => ({ id: `0123456789abcdef-${seq}`, origin: '0123456789abcdef', seq, clock: seq, server: S, ts: 1 });

describe('DesktopShell', () => {
  it('closing hides to the tray and says so once; Quit closes for real', () => {
    const { shell, calls, state } = desktop();
    expect(shell.onClose()).toBe(true);
    expect(calls).toEqual(['hide', 'notify Chatty is still running: Chatty keeps you in the chat from the tray. Choose Quit there to leave.']);
    expect(state.noticeShown).toBe(true);
    calls.length = 0;
    expect(shell.onClose()).toBe(true);
    expect(calls).toEqual(['hide']); // no second notice
    shell.onTrayAction('quit');
    expect(calls).toEqual(['hide', 'quit']);
    expect(shell.onClose()).toBe(false); // quitting: the window may close
  });

  it('on macOS the notice names the menu bar; the dock bounces for a mention', () => {
    const { shell, calls } = desktop('darwin');
    shell.onClose();
    expect(calls[1]).toContain('from the menu bar');
    calls.length = 0;
    const attention = new Attention();
    shell.onAttention(attention.onEvent(frame({ type: 'message', name: 'Bob', text: '@Ann look', ...meta(1) }), false, { name: 'Ann' }));
    expect(calls).toEqual(['flash true', 'bounce']);
  });

  it('a second launch (or a tray click) brings the window back to the front, restored', () => {
    const { shell, calls, state } = desktop();
    state.minimized = true;
    shell.showWindow();
    expect(calls).toEqual(['restore', 'show', 'focus']);
    calls.length = 0;
    shell.onTrayAction('open');
    expect(calls).toEqual(['restore', 'show', 'focus']);
  });

  it('the tray shows the unread count and the status, and its menu sets the status', () => {
    const { shell, tray, statuses } = desktop();
    expect(tray.tooltip).toBe('Chatty');
    expect(tray.menu.filter((i) => i.kind === 'radio').every((i) => i.kind === 'radio' && i.enabled === false)).toBe(true); // not in a chat
    shell.onSessionEvent(frame({ type: 'welcome', name: 'Ann', server: S, servers: [S], roster: { [S]: ['Ann'] } }), 'Ann');
    expect(tray.menu).toContainEqual({ kind: 'radio', label: 'Available', action: 'available', checked: true, enabled: true });
    const attention = new Attention();
    shell.onAttention(attention.onEvent(frame({ type: 'message', name: 'Bob', text: 'hi', ...meta(2) }), false, { name: 'Ann' }));
    shell.onAttention(attention.onEvent(frame({ type: 'message', name: 'Bob', text: 'again', ...meta(3) }), false, { name: 'Ann' }));
    expect([tray.tooltip, tray.title, tray.menu[0]]).toEqual(['Chatty — 2 unread', '2', { kind: 'normal', label: 'Open Chatty (2 unread)', action: 'open' }]);
    shell.onTrayAction('away');
    expect(statuses).toEqual(['away']);
    shell.onSessionEvent(frame({ type: 'presence', name: 'Ann', status: 'away', ...meta(4) }), 'Ann');
    expect(tray.menu).toContainEqual({ kind: 'radio', label: 'Away', action: 'away', checked: true, enabled: true });
    shell.onAttention(attention.onFocus());
    expect(tray.tooltip).toBe('Chatty');
    shell.onSessionEvent({ kind: 'status', status: 'idle' }, undefined);
    expect(tray.menu.find((i) => i.kind === 'radio')).toMatchObject({ enabled: false });
  });

  it('flashes the taskbar for a mention or a direct message while not in front, not for the rest', () => {
    const { shell, calls, state } = desktop();
    const attention = new Attention();
    shell.onAttention(attention.onEvent(frame({ type: 'message', name: 'Bob', text: 'hello all', ...meta(5) }), false, { name: 'Ann' }));
    expect(calls).toEqual([]);
    shell.onAttention(attention.onEvent(frame({ type: 'direct', name: 'Bob', to: 'Ann', text: 'psst', ...meta(6) }), false, { name: 'Ann' }));
    expect(calls).toEqual(['flash true']);
    state.focused = true;
    shell.onAttention({ unread: 0, title: 'Chatty', urgent: true });
    expect(calls).toEqual(['flash true']);
    shell.onFocus();
    expect(calls).toEqual(['flash true', 'flash false']);
  });

  it('start at login follows the setting', () => {
    const { shell, calls } = desktop();
    shell.setStartAtLogin(true);
    shell.setStartAtLogin(false);
    expect(calls).toEqual(['login true', 'login false']);
  });
});

describe('app menu', () => {
  it('has the standard Edit, View and Window menus, and the chat commands with their shortcuts', () => {
    const asked: string[] = [];
    const menu = appMenuTemplate('linux', (c) => asked.push(c));
    expect(menu.map((m) => m.role ?? m.label)).toEqual(['Chat', 'editMenu', 'viewMenu', 'windowMenu']);
    const chat = menu[0]!.submenu as Array<{ label?: string; accelerator?: string; click?: () => void; role?: string }>;
    expect(chat.slice(0, 2).map((i) => [i.label, i.accelerator])).toEqual([
      ['Go to Conversation…', 'CmdOrCtrl+K'],
      ['Search Messages', 'CmdOrCtrl+F'],
    ]);
    chat[0]!.click!();
    chat[1]!.click!();
    expect(asked).toEqual(['jump', 'search']);
    expect(appMenuTemplate('darwin', () => {})[0]).toEqual({ role: 'appMenu' });
  });
});
