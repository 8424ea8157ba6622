/**
 * The slice of the WebAssembly JS API this package uses. TypeScript declares it only in lib.dom, and
 * @types/node 20 not at all; Node has it as a global.
 */
declare namespace WebAssembly {
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  interface ModuleDescriptor {
    module?: string;
    name: string;
    kind: 'function' | 'global' | 'memory' | 'table';
  }
  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): (ModuleDescriptor & { module: string })[];
    static exports(module: Module): ModuleDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
