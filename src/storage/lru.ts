/**
 * A bounded cache with two generations: reads look in the young map, then the old one (and
 * promote); when the young map is full it becomes the old one and the previous old one is
 * dropped. Every operation is O(1) without the delete-and-reinsert churn of a strict LRU, and
 * at most 2 × capacity entries are held. Recently used entries survive; cold ones age out.
 */
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  /** Sets `key` only if the cache holds it (a newer value for an entry someone reads). */
  replace(key: K, value: V): void {
    if (this.young.has(key) || this.old.has(key)) this.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
