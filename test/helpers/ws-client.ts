/** A real WebSocket client (the `ws` package) that records frames, for e2e tests. */
import WebSocket from "ws";

export type Frame = Record<string, unknown> & { type: string };

export class WsClient {
  readonly frames: Frame[] = [];
  readonly socket: WebSocket;
  closeCode: number | null = null;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    socket.on("close", (code) => {
      this.closeCode = code;
    });
  }

  /** Opens a socket; rejects when the handshake fails. */
  static open(
    url: string,
    options: { protocols: string[]; headers: Record<string, string> },
  ): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options.protocols, { headers: options.headers });
      const client = new WsClient(socket);
      socket.once("open", () => resolve(client));
      socket.once("error", reject);
      socket.once("unexpected-response", (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Waits for the first frame (from index `from`) that matches. */
  async next(match: (frame: Frame) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Closes and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.once("close", resolve));
    this.socket.close(1000);
    await closed;
  }

  /** Drops the connection without a close handshake (a network failure). */
  async drop(): Promise<void> {
    const closed = new Promise((resolve) => this.socket.once("close", resolve));
    this.socket.terminate();
    await closed;
  }
}
