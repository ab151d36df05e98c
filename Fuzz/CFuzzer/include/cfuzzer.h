#ifndef WARDEN_CFUZZER_H
#define WARDEN_CFUZZER_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer). Only referenced in
   builds made with -DFUZZING (scripts/fuzz); ordinary builds replay inputs instead. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
