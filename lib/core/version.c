/* Version queries and the one deallocator callers use for library memory. */
#include "fortknox/common.h"
#include "alloc.h"

void fk_free(void *ptr) { fk__xfree(ptr); }

const char *fk_version_string(void) { return FK_VERSION_STRING; }

int fk_version_number(void) { return FK_VERSION_NUMBER; }

void fk_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = FK_VERSION_MAJOR;
    if (minor)
        *minor = FK_VERSION_MINOR;
    if (patch)
        *patch = FK_VERSION_PATCH;
}
