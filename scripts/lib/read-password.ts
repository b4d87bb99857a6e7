/**
 * Reads a password from standard input — never from argv, where `ps` and shell history would
 * show it. A pipe or file must hold exactly one line; a terminal gets a prompt without echo.
 */
import { CliError } from "./cli.ts";

/** More than any policy allows (the maximum is at most 1024 code points = 4 KiB of UTF-8). */
const MAX_INPUT_BYTES = 8 * 1024;

/** Reads the password: prompts twice without echo on a terminal, else reads one line. */
export async function readPassword(prompt = "Password: "): Promise<string> {
  if (!process.stdin.isTTY) return readPipedLine(process.stdin);
  const [first, second] = await promptHidden([prompt, "Repeat password: "]);
  if (first !== second) throw new CliError("the passwords do not match");
  return first ?? "";
}

/**
 * Reads all of a stream and returns its single line: one trailing `\n` or `\r\n` is removed and
 * nothing else (spaces are part of the password). More lines, invalid UTF-8 or nothing at all
 * are refused.
 */
export async function readPipedLine(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) throw new CliError("standard input is too long for a password");
    chunks.push(buffer);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new CliError("the password on standard input is not valid UTF-8");
  }
  if (text === "") throw new CliError("no password on standard input (pipe exactly one line)");
  const line = text.endsWith("\r\n") ? text.slice(0, -2) : text.replace(/\n$/, "");
  if (/[\r\n]/.test(line)) {
    throw new CliError("standard input must hold exactly one line: the password");
  }
  return line;
}

/**
 * Shows each prompt on stderr and reads one line per prompt from the terminal in raw mode,
 * echoing nothing. Backspace edits; Ctrl-C, or Ctrl-D on an empty line, cancels.
 */
function promptHidden(prompts: string[]): Promise<string[]> {
  const stdin = process.stdin;
  const lines: string[] = [];
  let value = "";
  // Special keys (arrows, Home, …) arrive as escape sequences: ESC [ … final, or ESC O x.
  let sequence: "" | "start" | "csi" | "ss3" = "";
  return new Promise((resolve, reject) => {
    const finish = (error?: CliError) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      if (error) {
        process.stderr.write("\n");
        reject(error);
      } else resolve(lines);
    };
    const endLine = () => {
      process.stderr.write("\n");
      lines.push(value);
      value = "";
      if (lines.length === prompts.length) return true;
      process.stderr.write(prompts[lines.length] ?? "");
      return false;
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (sequence === "start") {
          sequence = char === "[" ? "csi" : char === "O" ? "ss3" : "";
        } else if (sequence === "ss3" || (sequence === "csi" && char >= "@" && char <= "~")) {
          sequence = "";
        } else if (sequence === "csi") {
          // inside a CSI sequence: skip its parameters
        } else if (char === "\u001b") sequence = "start";
        else if (char === "\r" || char === "\n") {
          if (endLine()) return finish();
        } else if (char === "\u0003" || (char === "\u0004" && value === "")) {
          return finish(new CliError("cancelled"));
        } else if (char === "\u007f" || char === "\b") {
          value = Array.from(value).slice(0, -1).join("");
        } else if (char >= " ") value += char;
      }
    };
    process.stderr.write(prompts[0] ?? "");
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
