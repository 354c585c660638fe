/* doctor's checks and the state they share.
 *
 * doctor.c runs fk__doctor_checks[] in order: every entry with in_snapshot
 * inside one repeatable-read, read-only snapshot (so the manifest, install,
 * loss and schema checks see one database), then every other entry after it
 * is rolled back. An entry runs only when what it needs is there (needs);
 * "audit" is known only after the install check, which comes first for that
 * reason. docs/internals/add-a-doctor-check.md says how to add one. */
#ifndef FK_DOCTOR_INTERNAL_H
#define FK_DOCTOR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "installed.h"
#include "fortknox/recovery.h"
#include "registry.h"
#include "witness.h"

typedef struct fk__doctor {
    size_t checks_done; /* for progress: checks run or skipped, of fk__doctor_ncheck */
    fk_ctx *ctx;
    fk__registry *reg;
    fk_report *report;
    fk_doctor_options o;
    fk__install_info info;
    char head_q[200]; /* the quoted chain head table, from info */
    char seal_error[400]; /* why doctor's own seal failed, "" if it did not */
    int root; /* fixture dir, -1 when none or unopenable */
    /* Set by the manifest check, read by later ones: */
    char exported_at[32]; /* the last export's time, "" when unknown (freshness) */
    int64_t anchor_id;    /* the chain head the manifest anchors, 0 when none (install) */
    int manifest_ok;      /* the manifest was read (untraced) */
    /* Set by the witness check: what the witness said and the head seen
     * (recorded once every check ran, unless one found tampering) */
    fk__witness wit;
    int wit_checked;
    /* Set by the install check: installed, and the audit table and chain
     * head exist (FK__DOCTOR_AUDIT). */
    int audit_ok;
    /* per type: entities the manifest counted (manifest check) and the audit
     * log knows alive (audit check), -1 when unknown: what a damaged type's
     * missing table takes with it (schema check) */
    int64_t *known_manifest, *known_audit;
    char **sample; /* per type: one fixture file the manifest lists, or NULL */
    /* per type: ids already reported lost (manifest and audit may both say so) */
    int64_t **lost;
    size_t *nlost, *caplost;
} fk__doctor;

/* What an entry needs before it can run; without it the entry is skipped
 * (what is missing is a finding of another check, or was not asked for). */
enum {
    FK__DOCTOR_FIXTURES = 1u << 0,  /* a fixture directory was given */
    FK__DOCTOR_BACKUPS = 1u << 1,   /* a backup directory was given */
    FK__DOCTOR_INSTALLED = 1u << 2, /* the install record is there (info.installed) */
    FK__DOCTOR_AUDIT = 1u << 3      /* audit_ok */
};

typedef struct fk__doctor_check {
    const char *codes; /* the finding codes it can emit, space-separated */
    unsigned needs;    /* FK__DOCTOR_* */
    int in_snapshot;   /* 1: inside the shared snapshot; 0: after it */
    int (*fn)(fk__doctor *d);
} fk__doctor_check;

extern const fk__doctor_check fk__doctor_checks[];
extern const size_t fk__doctor_ncheck;

/* check_manifest.c */
int fk__doctor_manifest(fk__doctor *d);
int fk__doctor_freshness(fk__doctor *d);
int fk__doctor_untraced(fk__doctor *d);
/* check_audit.c */
int fk__doctor_install(fk__doctor *d);
int fk__doctor_audit_loss(fk__doctor *d);
int fk__doctor_chain(fk__doctor *d);
int fk__doctor_witness(fk__doctor *d);
/* check_schema.c */
int fk__doctor_schema(fk__doctor *d);
int fk__doctor_cascade(fk__doctor *d);
int fk__doctor_soft_delete(fk__doctor *d);
int fk__doctor_privileges(fk__doctor *d);
int fk__doctor_settings(fk__doctor *d);
/* check_protections.c */
int fk__doctor_triggers(fk__doctor *d);
int fk__doctor_functions(fk__doctor *d);
int fk__doctor_rules(fk__doctor *d);
int fk__doctor_ddl_guard(fk__doctor *d);
int fk__doctor_meta(fk__doctor *d);
/* check_mass.c */
int fk__doctor_mass_change(fk__doctor *d);
/* check_backups.c */
int fk__doctor_backups(fk__doctor *d);

/* Shared by the checks (doctor.c). */
/* The registry index of an entity type, or -1. */
int fk__doctor_type(const fk__doctor *d, const char *type);
/* t when its tables can be queried, else -1: a damaged type's missing
 * table or column is reported once (the schema check), never queried. */
int fk__doctor_usable(const fk__doctor *d, int t);
/* Appends the n-th element (0: the first) of a PostgreSQL array literal,
 * s quoted and escaped: {"app.\"x\"",...}. */
void fk__doctor_array_item(fk__buf *b, const char *s, int n);
/* Reports entity id of type t as lost (FK-LOSS), once however many checks
 * find it; name may be NULL, source says how it is known. */
void fk__doctor_lost(fk__doctor *d, int t, int64_t id, const char *name, const char *source);

#endif
