/**
 * A bench-only Worker (never deployed): the baselines of `npm run bench`. At `/rooms/:room`
 * one hibernating Durable Object per room forwards every text frame to the room's other
 * sockets, with no authentication, validation, masking, sequencing or storage — the least a
 * chat relay on Durable Objects can do, so Parley's figures can be read as a ratio to it.
 * At `/stored-rooms/:room` the same relay first stores each frame in its SQLite storage, as
 * Parley stores each message before anyone sees it: the output gate then holds the forward
 * until the write is durable, so this baseline shows what the durable write itself costs.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  RELAY: DurableObjectNamespace<Relay>;
  STORING_RELAY: DurableObjectNamespace<StoringRelay>;
}

export class Relay extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    for (const other of this.ctx.getWebSockets()) {
      if (other !== ws) other.send(data);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
  }
}

/** The relay that stores every frame (one row, as Parley's event) before forwarding it. */
export class StoringRelay extends Relay {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, data TEXT)",
    );
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT INTO frames (at, data) VALUES (?, ?)",
      Date.now(),
      typeof data === "string" ? data : null,
    );
    await super.webSocketMessage(ws, data);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const [, kind, room] =
      new URL(request.url).pathname.match(/^\/(rooms|stored-rooms)\/([\w-]{1,64})$/) ?? [];
    if (!room) return new Response("ok");
    const relays = kind === "rooms" ? env.RELAY : env.STORING_RELAY;
    return relays.get(relays.idFromName(room)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
