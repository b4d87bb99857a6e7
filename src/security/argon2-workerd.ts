/**
 * The argon2 WASM module, imported statically: workerd forbids compiling WASM from bytes
 * at run time, so wrangler bundles the `.wasm` as a compiled module.
 */
import Argon2 from "@phi-ag/argon2";
// @ts-expect-error — wrangler's CompiledWasm rule turns a .wasm import into a WebAssembly.Module; TypeScript has no type for it.
import argon2Wasm from "@phi-ag/argon2/argon2.wasm";

let instance: Argon2 | undefined;

/** The shared argon2 instance (stateless between calls, so one per isolate is safe). */
export async function getArgon2(): Promise<Argon2> {
  instance ??= new Argon2(await WebAssembly.instantiate(argon2Wasm as WebAssembly.Module));
  return instance;
}
