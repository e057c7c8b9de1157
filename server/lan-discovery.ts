// LAN discovery over mDNS/DNS-SD: a node on the LAN — the app's, or `chatty host --bind 0.0.0.0`
// and `chatty start` — advertises `_chatty._tcp`; the app's Join screen lists what it finds. Needs
// multicast on the LAN; where there is none, the list stays empty and typing an address still works.
import { hostname } from 'node:os';
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import type { DiscoveredHost } from '../shared/bridge.js';

/** What advertising needs of a node (ChatServer has it): its invite, who is on it, and word when either changes. */
export interface Advertisable {
  invite(): { fingerprint?: string; private: boolean };
  buddies(): readonly unknown[];
  on(event: 'event' | 'keys', listener: () => void): unknown;
  off(event: 'event' | 'keys', listener: () => void): unknown;
}

const SERVICE_TYPE = 'chatty';

export class LanDiscovery {
  readonly #bonjour: Bonjour;
  #browser: Browser | undefined;
  #published: Service | undefined;
  #advert: { name: string; port: number; buddies: number; secure: boolean; private: boolean } | undefined;
  #republishTimer: NodeJS.Timeout | undefined;

  /** @param networkInterface the interface to multicast on (tests pin 127.0.0.1); default: all */
  constructor(networkInterface?: string) {
    const options = networkInterface ? { interface: networkInterface, loopback: true } : undefined;
    // Errors (no multicast here) only mean nothing is discovered; typing an address still works.
    this.#bonjour = new Bonjour(options as never, () => {});
  }

  /** Watch the LAN; `onHosts` gets the whole list each time it changes. */
  browse(onHosts: (hosts: DiscoveredHost[]) => void): void {
    this.#browser?.stop();
    const browser = this.#bonjour.find({ type: SERVICE_TYPE });
    const report = () => onHosts(browser.services.map(toHost).filter((h): h is DiscoveredHost => h !== undefined));
    browser.on('up', report);
    browser.on('down', report);
    browser.on('txt-update', report);
    this.#browser = browser;
  }

  /**
   * Advertise a hosted node: the name shown in the list, its port, how many buddies are on it,
   * whether it serves TLS and whether people need an invite (never the invite itself).
   */
  advertise(name: string, port: number, buddies: number, access: { secure: boolean; private: boolean }): void {
    const next = { name: `${name} on ${hostname()}`.slice(0, 63), port, buddies, ...access };
    const same = this.#advert && (['name', 'port', 'buddies', 'secure', 'private'] as const).every((k) => this.#advert![k] === next[k]);
    if (same) return;
    const first = !this.#advert;
    this.#advert = next;
    // mDNS records are re-announced at most every few seconds: buddy counts change often.
    if (first) this.#publish();
    else this.#republishTimer ??= setTimeout(() => this.#publish(), 3_000);
  }

  stopAdvertising(): void {
    clearTimeout(this.#republishTimer);
    this.#republishTimer = undefined;
    this.#advert = undefined;
    this.#published?.stop?.();
    this.#published = undefined;
  }

  /** Stop, saying goodbye first (so browsers drop this host at once rather than when its record expires). */
  async destroy(): Promise<void> {
    clearTimeout(this.#republishTimer);
    this.#advert = undefined;
    this.#browser?.stop();
    await new Promise<void>((resolve) => this.#bonjour.unpublishAll(() => resolve()));
    this.#published = undefined;
    await new Promise<void>((resolve) => this.#bonjour.destroy(() => resolve()));
  }

  #publish(): void {
    this.#republishTimer = undefined;
    const advert = this.#advert;
    if (!advert) return;
    const previous = this.#published;
    const publish = () => {
      this.#published = this.#bonjour.publish({
        name: advert.name,
        type: SERVICE_TYPE,
        port: advert.port,
        txt: { v: '1', buddies: String(advert.buddies), tls: advert.secure ? '1' : '0', invite: advert.private ? 'required' : 'open' },
        disableIPv6: true,
      });
    };
    if (previous?.stop) previous.stop(publish);
    else publish();
  }
}

/**
 * Keep a node advertised while it runs: its invite says whether it serves TLS and needs an invite,
 * and its buddy count follows joins and leaves. `name`: who hosts it (shown in the Join list).
 * Returns the function that stops it.
 */
export function advertiseNode(discovery: LanDiscovery, node: Advertisable, name: () => string, port: number): () => void {
  const advertise = () => {
    const invite = node.invite();
    discovery.advertise(name(), port, node.buddies().length, { secure: invite.fingerprint !== undefined, private: invite.private });
  };
  node.on('event', advertise);
  node.on('keys', advertise);
  advertise();
  return () => {
    node.off('event', advertise);
    node.off('keys', advertise);
    discovery.stopAdvertising();
  };
}

/** Whether a server bound to `bind` can be reached from the LAN (and so is worth advertising). */
export function reachableFromLan(bind: string): boolean {
  return !/^(127\.|::1$|localhost$)/.test(bind);
}

function toHost(service: Service): DiscoveredHost | undefined {
  const address = service.referer?.address ?? service.addresses?.find((a) => !a.includes(':'));
  if (!address) return undefined;
  const txt = (service.txt as Record<string, string> | undefined) ?? {};
  const buddies = Number(txt.buddies ?? 0);
  // Hosts from before TLS say nothing of it: they are plain ws://.
  const scheme = txt.tls === '1' ? 'wss' : 'ws';
  return {
    name: service.name,
    url: `${scheme}://${address}:${service.port}`,
    buddies: Number.isFinite(buddies) ? buddies : 0,
    needsInvite: txt.invite === 'required',
  };
}
