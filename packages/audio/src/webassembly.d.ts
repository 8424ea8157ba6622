/**
 * The slice of the WebAssembly JS API this package uses. TypeScript declares it only in lib.dom, and
 * @types/node 20 not at all; Node has it as a global.
 */
declare namespace WebAssembly {
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
