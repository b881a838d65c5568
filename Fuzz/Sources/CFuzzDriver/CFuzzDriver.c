// Declarations only (include/CFuzzDriver.h); libFuzzer defines the function.
#include "CFuzzDriver.h"
