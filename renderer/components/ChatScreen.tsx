import type { Model } from '../model.js';
import { BuddyList } from './BuddyList.js';
import { Composer } from './Composer.js';
import { StatusBar } from './StatusBar.js';
import { Timeline } from './Timeline.js';

export function ChatScreen({ model }: { model: Model }) {
  return (
    <div class="chat">
      <StatusBar model={model} />
      <BuddyList model={model} />
      <Timeline model={model} />
      <Composer model={model} />
    </div>
  );
}
