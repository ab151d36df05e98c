/* Declarations only: see include/cfuzzer.h. */
