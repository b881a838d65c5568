/* A second compile unit, linked before elf-fixture.c: the fixture's own
 * unit is then not the first of .debug_info, so a lookup in it opens a
 * UnitWindow (the symbolizer's second image of the file, whose
 * .debug_info starts at that unit). */
static inline __attribute__((always_inline)) int twice(int x) { return x * 2 + 1; }
__attribute__((noinline)) int first_unit(int x) { return twice(x) ^ 7; }
