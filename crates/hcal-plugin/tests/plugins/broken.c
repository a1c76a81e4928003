/*
 * cbroken: the reference plugin (reference.c) with faults, for tests of how
 * hcal reports a misbehaving plugin:
 *
 *   Add   returns a - b            (a wrong answer)
 *   Mul   writes a NaN into element 0
 *   Exp   dereferences NULL        (SIGSEGV)
 *   Tanh  never returns            (a hang)
 *   Relu  calls abort()            (SIGABRT)
 *
 * Everything else is correct. Run Exp, Tanh and Relu only in a child process.
 */
#define HCAL_TEST_BROKEN 1
#include "reference.c"
