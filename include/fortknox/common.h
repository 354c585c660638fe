/**
 * @file fortknox/common.h
 * @brief Status codes, memory ownership and version queries shared by every
 *        libfortknox module.
 *
 * Conventions (see docs/api-conventions.md):
 *  - every fallible call returns `int`: 0 (FK_OK) or a negative FK_E* code;
 *  - the message for the last failure is fk_errmsg(ctx);
 *  - every string or buffer the library hands out is released with fk_free();
 *  - every *_free() and fk_close() accepts NULL.
 */
#ifndef FORTKNOX_COMMON_H
#define FORTKNOX_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FK_BUILDING_LIBRARY) && defined(__GNUC__)
#define FK_EXTERN __attribute__((visibility("default")))
#else
#define FK_EXTERN
#endif

#if defined(__GNUC__) && !defined(FK_NO_WARN_UNUSED)
#define FK_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define FK_WARN_UNUSED
#endif

/** Compile-time version of the headers; compare with fk_version_number(). */
#define FK_VERSION_MAJOR 0
#define FK_VERSION_MINOR 1
#define FK_VERSION_PATCH 0
#define FK_VERSION_STRING "0.1.0"
#define FK_VERSION_NUMBER (FK_VERSION_MAJOR * 10000 + FK_VERSION_MINOR * 100 + FK_VERSION_PATCH)

/**
 * Status codes. Values are part of the ABI and never change meaning.
 * Callers should test `rc < 0` for failure and compare with these names.
 */
typedef enum fk_status {
    FK_OK = 0,           /**< success */
    FK_EINVAL = -1,      /**< invalid argument or usage (NULL where not allowed, bad option) */
    FK_ENOMEM = -2,      /**< out of memory; nothing was changed */
    FK_EDB = -3,         /**< the database refused or the connection failed */
    FK_EIO = -4,         /**< a file-system operation failed */
    FK_EPARSE = -5,      /**< malformed input (JSON, fixture, registry, manifest) */
    FK_ENOTFOUND = -6,   /**< the named entity, table, column or file does not exist */
    FK_ECONFLICT = -7,   /**< the request contradicts existing state */
    FK_EVERIFY = -8,     /**< a verification found differences */
    FK_ETAMPER = -9,     /**< the audit chain or a fixture manifest was altered */
    FK_EGUARD = -10,     /**< a fortknox guard in the database blocked the operation */
    FK_EUNSUPPORTED = -11, /**< the server or the data uses something not supported */
    FK_ECANCELLED = -12, /**< a progress callback asked to stop; nothing was committed */
    FK_ELOSS = -13       /**< entities disappeared without a recorded deletion: their
                              fixture files were kept (see fk_export()) */
} fk_status;

/**
 * Static, English description of a status code ("invalid argument", ...).
 * Never NULL; unknown codes give "unknown error". The string is owned by the
 * library and lives forever.
 */
FK_EXTERN const char *fk_strerror(int code);

/**
 * Stable identifier of a status code ("FK_EINVAL"), for scripts and logs.
 * Never NULL; unknown codes give "FK_EUNKNOWN".
 */
FK_EXTERN const char *fk_status_name(int code);

/**
 * Releases a string or buffer returned by the library. NULL is harmless.
 * Never pass memory from another allocator, and never free library memory with
 * anything else (notably PHP's FFI::free()).
 */
FK_EXTERN void fk_free(void *ptr);

/** Run-time library version as "MAJOR.MINOR.PATCH". Static string. */
FK_EXTERN const char *fk_version_string(void);

/**
 * Run-time library version as MAJOR*10000 + MINOR*100 + PATCH.
 * A program built against newer headers than the loaded library can detect it:
 * `if (fk_version_number() < FK_VERSION_NUMBER) ...`.
 */
FK_EXTERN int fk_version_number(void);

/**
 * Run-time library version split into its parts. Any pointer may be NULL.
 */
FK_EXTERN void fk_version(int *major, int *minor, int *patch);

#ifdef __cplusplus
}
#endif

#endif /* FORTKNOX_COMMON_H */
