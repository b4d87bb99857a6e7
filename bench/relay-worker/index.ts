/**
 * A bench-only Worker (never deployed): the bare-relay baseline of `npm run bench`. One
 * hibernating Durable Object per room forwards every text frame to the room's other sockets,
 * with no authentication, validation, masking, sequencing or storage — the least a chat relay
 * on Durable Objects can do, so Parley's figures can be read as a ratio to it.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  RELAY: DurableObjectNamespace<Relay>;
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

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const room = new URL(request.url).pathname.match(/^\/rooms\/([\w-]{1,64})$/)?.[1];
    if (!room) return new Response("ok");
    return env.RELAY.get(env.RELAY.idFromName(room)).fetch(request);
  },
} satisfies ExportedHandler<Env>;
