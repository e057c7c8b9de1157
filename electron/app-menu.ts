// The app's menu bar: the platform's standard Edit, View and Window menus (their roles give the
// usual shortcuts, copy and paste among them), and the chat's own: Go to Conversation… (Ctrl/Cmd+K)
// and Search (Ctrl/Cmd+F). Those two are shown, not registered: the window's own key handler
// answers them, so they work the same in a browser.

export type WindowCommand = 'jump' | 'search';

/** A menu entry as Electron's Menu.buildFromTemplate takes it (the fields used here; main.ts passes it on). */
export interface MenuEntry {
  label?: string;
  role?: 'appMenu' | 'editMenu' | 'viewMenu' | 'windowMenu' | 'quit';
  type?: 'separator';
  accelerator?: string;
  registerAccelerator?: boolean;
  click?: () => void;
  submenu?: MenuEntry[];
}

export function appMenuTemplate(platform: NodeJS.Platform, command: (command: WindowCommand) => void): MenuEntry[] {
  const chat: MenuEntry = {
    label: 'Chat',
    submenu: [
      { label: 'Go to Conversation…', accelerator: 'CmdOrCtrl+K', registerAccelerator: false, click: () => command('jump') },
      { label: 'Search Messages', accelerator: 'CmdOrCtrl+F', registerAccelerator: false, click: () => command('search') },
      ...(platform === 'darwin' ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  };
  return [...(platform === 'darwin' ? [{ role: 'appMenu' } as const] : []), chat, { role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }];
}
