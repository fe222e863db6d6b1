// Clang thread-safety annotations (after abseil's thread_annotations.h).
//
// They document which lock guards which field, and clang's -Wthread-safety
// checks them (the CI clang build); g++ ignores them.

#pragma once

#if defined(__clang__)
#define RAFTLOG_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define RAFTLOG_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) RAFTLOG_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) RAFTLOG_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) RAFTLOG_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) RAFTLOG_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) RAFTLOG_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) RAFTLOG_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) RAFTLOG_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) RAFTLOG_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) RAFTLOG_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) RAFTLOG_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) RAFTLOG_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) RAFTLOG_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) RAFTLOG_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) RAFTLOG_THREAD_ANNOTATION(lock_returned(x))
#define CAPABILITY(x) RAFTLOG_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY RAFTLOG_THREAD_ANNOTATION(scoped_lockable)
