// libFuzzer's entry for programs that keep their own main: SwiftPM links an
// executable's main to the module's entry point, so a harness cannot take
// libFuzzer's main; it calls this from its @main instead.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
