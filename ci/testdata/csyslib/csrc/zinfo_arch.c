/* zinfo's own C code: the architecture its compiler targeted, so the smoke
 * test can tell the build script used the target's compiler. */
#define ZINFO_STR2(x) #x
#define ZINFO_STR(x) ZINFO_STR2(x)

const char *zinfo_arch(void)
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
	return "armv" ZINFO_STR(__ARM_ARCH);
#else
	return "unknown";
#endif
}
