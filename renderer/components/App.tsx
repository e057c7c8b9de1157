import type { Model } from '../model.js';
import { ChatScreen } from './ChatScreen.js';
import { StartScreen } from './StartScreen.js';

export function App({ model }: { model: Model }) {
  const { status, me } = model.state.value;
  const inChat = me !== undefined && (status === 'connected' || status === 'reconnecting' || status === 'leaving' || status === 'disconnected');
  return inChat ? <ChatScreen model={model} /> : <StartScreen model={model} />;
}
