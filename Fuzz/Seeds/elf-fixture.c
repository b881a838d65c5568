/* A few kilobytes of ELF with what the symbolizer reads in a vmlinux or a
 * module: a Linux banner, functions with always-inline chains, a static
 * name defined twice in spirit (helper), an assembly label of size 0. The
 * fuzz seeds are this file compiled several ways (scripts/fuzz). */
static inline __attribute__((always_inline)) int inner(int x) { return x * 5 + (x >> 2); }
static inline __attribute__((always_inline)) int middle(int x) { return inner(x - 1) ^ 3; }
__attribute__((noinline)) int outer(int x) { int s = 0; for (int i = 0; i < x; i++) s += middle(i); return s; }
__attribute__((noinline)) static int helper(int x) { return outer(x) + 1; }
int (*volatile keep)(int) = helper;
const char linux_banner[] = "Linux version 6.1.0-99-fixture (lockscan@fuzz) (gcc) #1 SMP\n";
int start_kernel(void) { return keep(3) + linux_banner[0]; }
__asm__(".text\n.globl end_repeat_nmi\nend_repeat_nmi:\n\tnop\n\tnop\n\tnop\n\tnop\n");
