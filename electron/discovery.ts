// LAN discovery over mDNS/DNS-SD: a hosting node advertises `_chatty._tcp`; the Join screen lists
// what it finds. Needs multicast on the LAN; where there is none, the list stays empty and typing
// an address still works.
import { hostname } from 'node:os';
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import type { DiscoveredHost } from '../shared/bridge.js';

const SERVICE_TYPE = 'chatty';

export class LanDiscovery {
  readonly #bonjour: Bonjour;
  #browser: Browser | undefined;
  #published: Service | undefined;
  #advert: { name: string; port: number; buddies: number } | undefined;
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

  /** Advertise a hosted node (name shown in the list, its port, how many buddies are on it). */
  advertise(name: string, port: number, buddies: number): void {
    const next = { name: `${name} on ${hostname()}`.slice(0, 63), port, buddies };
    if (this.#advert && this.#advert.name === next.name && this.#advert.port === port && this.#advert.buddies === buddies) return;
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

  destroy(): Promise<void> {
    this.stopAdvertising();
    this.#browser?.stop();
    return new Promise((resolve) => this.#bonjour.destroy(() => resolve()));
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
        txt: { v: '1', buddies: String(advert.buddies) },
        disableIPv6: true,
      });
    };
    if (previous?.stop) previous.stop(publish);
    else publish();
  }
}

function toHost(service: Service): DiscoveredHost | undefined {
  const address = service.referer?.address ?? service.addresses?.find((a) => !a.includes(':'));
  if (!address) return undefined;
  const buddies = Number((service.txt as Record<string, string> | undefined)?.buddies ?? 0);
  return { name: service.name, url: `ws://${address}:${service.port}`, buddies: Number.isFinite(buddies) ? buddies : 0 };
}
