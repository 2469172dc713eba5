/**
 * The environment a node process is started with by `zl testnet start` and the benchmarks
 * (ADR 0025). glibc reads its tunables once, at process start, so a node cannot apply them to
 * itself: whoever starts it passes them, and an operator's own unit file sets the same variable.
 */

/**
 * glibc's malloc asks the kernel for transparent huge pages on its heap (`madvise`, glibc 2.35 and
 * later; older glibc and other C libraries ignore it). A node's heap grows by hundreds of MiB under
 * load, and on virtual machines the first touch of each 4 KiB page is expensive.
 */
export const NODE_GLIBC_TUNABLES = "glibc.malloc.hugetlb=1";

/** `base` with the node's glibc tunables added; a `glibc.malloc.hugetlb` setting already there stands. */
export function nodeProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const current = base.GLIBC_TUNABLES ?? "";
  if (current.split(":").some((t) => t.startsWith("glibc.malloc.hugetlb="))) return { ...base };
  return {
    ...base,
    GLIBC_TUNABLES: current === "" ? NODE_GLIBC_TUNABLES : `${current}:${NODE_GLIBC_TUNABLES}`,
  };
}
