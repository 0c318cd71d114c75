/* libmix: a tiny C library the mixer fixture builds with configure + make. */
#ifndef MIX_H
#define MIX_H

#include <stddef.h>
#include <stdint.h>

/* The architecture the C preprocessor saw: x86_64, i386, aarch64, armv5te. */
const char *mix_arch(void);

/* The --host that configure recorded in config.h. */
const char *mix_host(void);

/* 32-bit FNV-1a hash of n bytes at p. */
uint32_t mix_fnv1a(const unsigned char *p, size_t n);

#endif
