// A TCP proxy the test controls, for network faults without touching the network: it forwards
// 127.0.0.1:port to a target port until cut() — which drops every connection and refuses new ones,
// a partition — and heal() lets connections through again; stall() silences open connections
// without closing them. It keeps every byte it carried
// (`seen`), so a test can check what an eavesdropper on that path would read.
import { createServer, type Server, type Socket, connect } from 'node:net';

export class TcpProxy {
  readonly sockets = new Set<Socket>();
  readonly #carried: Buffer[] = [];
  #cut = false;

  /** Everything that went through, both ways, as one buffer. */
  seen(): Buffer {
    return Buffer.concat(this.#carried);
  }

  private constructor(
    readonly port: number,
    private readonly server: Server,
  ) {}

  static async start(targetPort: number, port = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.#cut) return client.destroy();
      const upstream = connect(targetPort, '127.0.0.1');
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy?.sockets.delete(a);
          b.destroy();
        });
        const carried = proxy.#carried;
        a.on('data', (chunk: Buffer) => carried.push(chunk));
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    proxy = new TcpProxy((server.address() as { port: number }).port, server);
    return proxy;
  }

  /** Partition: every connection through the proxy drops, and new ones are refused. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * The path goes silent: connections stay open but nothing more crosses (a peer that froze, or a
   * network that drops every packet), so neither end sees a close until its own timeouts say so.
   */
  stall(): void {
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  heal(): void {
    this.#cut = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
