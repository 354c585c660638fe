/* What "an entity's state at T" means, in one place, for fk_entity_as_of,
 * fk_entity_restore and fk_restore_all (docs/recovery.md, "State at a
 * time"); and the audit rows a restore writes. */
#ifndef FK_RECOVERY_RESTORE_STATE_H
#define FK_RECOVERY_RESTORE_STATE_H

#include <stdint.h>
#include "buf.h"
#include "installed.h"
#include "registry.h"

/* Appends, to a FROM clause that already names the entity, two lateral
 * joins; the select-list they feed is the caller's: aliases fk_b (the
 * entity's last audit row at or before the time: id, action, new_json) and
 * fk_f (its first row after it: id, action, old_json). type_param / time_param are the
 * parameter references ("$1"), id_expr the entity id expression. The time
 * is compared as a timestamp (the session is UTC), whatever the column's
 * precision. Table-level rows (entity 0, "truncated") are no entity's
 * history. */
void fk__state_joins(fk__buf *sql, const char *audit_q, const char *type_param,
                     const char *id_expr, const char *time_param);

/* The select-list expressions over those joins: the state (NULL: absent,
 * or unknown), the audit row it comes from (NULL: the entity has no
 * history), and whether the log knows it. A missing state is "absent" only
 * when the row says so -- a force-deletion (or accepted loss) before the
 * time, a creation after it; any other row without that state (a capture that did not record
 * it, an application's row without it) leaves it unknown, and a restore to
 * it is refused rather than guessed. */
#define FK__STATE_DOC "CASE WHEN fk_b.id IS NOT NULL THEN fk_b.new_json ELSE fk_f.old_json END"
#define FK__STATE_SRC "coalesce(fk_b.id, fk_f.id)"
/* The rows that remove an entity (new_json NULL): a hard delete, and an
 * export told to accept its loss. */
#define FK__REMOVING_ACTIONS "('force_deleted', 'loss_accepted')"
#define FK__STATE_KNOWN                                                                           \
    "CASE WHEN fk_b.id IS NOT NULL THEN fk_b.new_json IS NOT NULL OR fk_b.action IN"             \
    " " FK__REMOVING_ACTIONS " ELSE fk_f.old_json IS NOT NULL OR fk_f.action = 'created' END"
#define FK__STATE_ACTION "coalesce(fk_b.action, fk_f.action)"

/* A restore's audit rows are written once the entities are final (after
 * the self-references are set, at the end of a type): until then what each
 * row needs -- a JSON array of {"id", "action", "old"}, "old" the entity as
 * the table held it before the restore (null when absent) -- waits in a
 * temporary table, on the server, so the client holds no list. */
int fk__restore_hold(fk_ctx *ctx, const fk__etype *e, const char *changes);

/* Writes one audit row per entity of type e held, in the order held, each
 * with its new_json the entity as it now is and the given context, and
 * forgets them. *first_row: the first row's id (may be NULL). */
int fk__restore_audit(fk_ctx *ctx, const fk__install_info *info, const fk__etype *e,
                      const char *context, int64_t *first_row);

#endif
