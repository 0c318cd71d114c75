/* libmix: its answers come from the compiler that built it, so a caller can
 * tell which target that compiler was for. */
#include "config.h"
#include "mix.h"

#define MIX_STR2(x) #x
#define MIX_STR(x) MIX_STR2(x)

const char *mix_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__i386__)
	return "i386";
#elif defined(__aarch64__)
	return "aarch64";
#elif defined(__ARM_ARCH_5TE__)
	return "armv5te";
#elif defined(__ARM_ARCH)
	/* Another ARM: name its architecture version, e.g. "armv7". */
	return "armv" MIX_STR(__ARM_ARCH);
#else
	return "unknown";
#endif
}

const char *mix_host(void)
{
	return MIX_HOST;
}

uint32_t mix_fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV offset basis */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u; /* FNV prime; unsigned arithmetic wraps */
	}
	return h;
}
