/**
 * The slice of the WebAssembly JS API our packages use (packages/audio's MFCC kernel, packages/nn's
 * kernels). TypeScript declares it only in lib.dom, which we do not load, and @types/node 20 not at all;
 * Node has it as a global. One declaration for the whole repo: every tsconfig includes this folder.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    /** In 64 KiB pages. */
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    /** A SharedArrayBuffer for shared memories: growing never detaches views of an older one. */
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    /** Returns the previous size in pages. */
    grow(pages: number): number;
  }
  interface ModuleDescriptor {
    name: string;
    kind: 'function' | 'global' | 'memory' | 'table';
  }
  interface ModuleImportDescriptor extends ModuleDescriptor {
    module: string;
  }
  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Global {
    value: number;
  }
  function validate(bytes: Uint8Array): boolean;
}
