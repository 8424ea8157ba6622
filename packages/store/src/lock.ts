/**
 * Serializes async critical sections per key within this process: a section for key K starts only after
 * every earlier section for K settled. Used per user so that read-modify-write of a user's record (clip
 * count, token version) can't lose an update. It does not coordinate processes (see Store's doc comment).
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await section();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Number of keys with a section running or waiting (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
