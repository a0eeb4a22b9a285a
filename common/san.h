/* common/san.h - which sanitizer this build runs under, for code that must tell it something by
 * hand (a lock it does not follow, a stack it does not know):
 *
 *     #include "san.h"
 *     #ifdef LAB_TSAN
 *     #include <sanitizer/tsan_interface.h>
 *     #endif
 *
 * LAB_TSAN: ThreadSanitizer (-fsanitize=thread); LAB_ASAN: AddressSanitizer.  gcc says so with
 * __SANITIZE_THREAD__ / __SANITIZE_ADDRESS__, clang with __has_feature.
 */
#ifndef COMMON_SAN_H
#define COMMON_SAN_H

#if defined(__SANITIZE_THREAD__)
#define LAB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LAB_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define LAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LAB_ASAN 1
#endif
#endif

#endif
