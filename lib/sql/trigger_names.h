/* The names of libfortknox's triggers, once: install creates them (the
 * audit-log ones in lib/sql/core--1.sql, the per-table ones generated in
 * install_sql.c) and doctor looks for them. The SQLSTATEs they raise are
 * FK__GUARD_SQLSTATE and FK__TAMPER_SQLSTATE (ctx_internal.h). */
#ifndef FK_TRIGGER_NAMES_H
#define FK_TRIGGER_NAMES_H

/* On the audit table and the chain head (lib/sql/core--1.sql). */
#define FK__TRG_CHAIN "fortknox_chain"
#define FK__TRG_IMMUTABLE "fortknox_immutable"
#define FK__TRG_NO_TRUNCATE "fortknox_no_truncate"
#define FK__TRG_HEAD_GUARD "fortknox_head_guard"
#define FK__TRG_HEAD_NO_TRUNCATE "fortknox_head_no_truncate"

/* On the registry's tables. Capture sorts before PostgreSQL's "RI_..."
 * triggers on purpose (install_sql.c says why). */
#define FK__TRG_GUARD_DELETE "FK_guard_delete"
#define FK__TRG_GUARD_TRUNCATE "FK_guard_truncate"
#define FK__TRG_CAPTURE "FK_capture"
#define FK__TRG_CAPTURE_INS "FK_capture_ins"
#define FK__TRG_CAPTURE_UPD "FK_capture_upd"
#define FK__TRG_CAPTURE_DEL "FK_capture_del"

#endif
