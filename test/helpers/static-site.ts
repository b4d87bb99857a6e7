/**
 * A static host on its own loopback origin, standing in for Cloudflare Pages in tests: serves
 * a folder (`/` is `index.html`) and applies the headers of its `_headers` file's `/*` rule,
 * the only rule `npm run build` writes.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** The `/*` rule's headers of a Pages `_headers` file. */
function parseHeaders(text: string): [string, string][] {
  const rules = text.split(/\n(?=\S)/);
  const all = rules.find((rule) => rule.startsWith("/*\n")) ?? "";
  return all
    .split("\n")
    .slice(1)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(":");
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
}

/** Serves `dir` on 127.0.0.1:`port`; resolves once listening. */
export async function serveStaticSite(dir: string, port: number): Promise<Server> {
  const headers = parseHeaders(await readFile(path.join(dir, "_headers"), "utf8"));
  const server = createServer(async (req, res) => {
    const pathname = new URL(req.url ?? "/", "http://site").pathname;
    const file = pathname === "/" ? "index.html" : pathname.slice(1);
    // Only plain file names of the folder: no traversal, no _headers itself.
    if (!/^[\w.-]+$/.test(file) || file === "_headers") {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(path.join(dir, file));
      for (const [name, value] of headers) res.setHeader(name, value);
      res.setHeader("content-type", TYPES[path.extname(file)] ?? "application/octet-stream");
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}
