#define FFI_SCOPE "fortknox"
#define FFI_LIB "libfortknox.so.0"

/*
 * libfortknox for PHP FFI: the public API of include/fortknox/*.h in the
 * subset of C that PHP's FFI parser accepts (no preprocessor besides the two
 * defines above, no attributes). Kept in sync with the C headers by
 * tests/HeaderDriftTest.php, which fails when a prototype, a structure or an
 * enum value differs.
 *
 * The #define'd structure versions of the C headers (FK_*_VERSION) are enum
 * members here (enum fk_ffi_versions), since FFI cannot see macros.
 */

/* ---------------------------------------------------------------- common.h */

typedef enum fk_status {
    FK_OK = 0,
    FK_EINVAL = -1,
    FK_ENOMEM = -2,
    FK_EDB = -3,
    FK_EIO = -4,
    FK_EPARSE = -5,
    FK_ENOTFOUND = -6,
    FK_ECONFLICT = -7,
    FK_EVERIFY = -8,
    FK_ETAMPER = -9,
    FK_EGUARD = -10,
    FK_EUNSUPPORTED = -11,
    FK_ECANCELLED = -12,
    FK_ELOSS = -13
} fk_status;

enum fk_ffi_versions {
    FK_VERSION_MAJOR = 0,
    FK_VERSION_MINOR = 1,
    FK_VERSION_PATCH = 0,
    FK_CTX_OPTIONS_VERSION = 2,
    FK_EXPORT_OPTIONS_VERSION = 2,
    FK_IMPORT_OPTIONS_VERSION = 3,
    FK_KEY_MAP_VERSION = 1,
    FK_INSTALL_OPTIONS_VERSION = 1,
    FK_AUDIT_EVENT_VERSION = 1,
    FK_AUDIT_QUERY_VERSION = 1,
    FK_AUDIT_VERIFY_OPTIONS_VERSION = 1,
    FK_VERIFY_OPTIONS_VERSION = 1,
    FK_DOCTOR_OPTIONS_VERSION = 2,
    FK_REPORT_FORMAT_OPTIONS_VERSION = 1,
    FK_REGISTRY_PROPOSE_OPTIONS_VERSION = 1,
    FK_RESTORE_ALL_OPTIONS_VERSION = 1
};

enum fk_ffi_defaults {
    FK_DEFAULT_LOCK_TIMEOUT_MS = 10000,
    FK_DEFAULT_STATEMENT_TIMEOUT_MS = 600000,
    FK_DEFAULT_CONNECT_TIMEOUT_MS = 10000
};

const char *fk_strerror(int code);
const char *fk_status_name(int code);
void fk_free(void *ptr);
const char *fk_version_string(void);
int fk_version_number(void);
void fk_version(int *major, int *minor, int *patch);

/* ------------------------------------------------------------------- ctx.h */

typedef struct fk_ctx fk_ctx;

typedef enum fk_open_flags {
    FK_OPEN_LAZY_REGISTRY = 1
} fk_open_flags;

typedef struct fk_ctx_options {
    unsigned version;
    const char *registry_file;
    const char *schema;
    const char *fixture_root;
    const char *admin_email;
    const char *application_name;
    unsigned flags;
    int lock_timeout_ms;
    int statement_timeout_ms;
    int connect_timeout_ms;
} fk_ctx_options;

int fk_ctx_options_init(fk_ctx_options *opts, unsigned version);
int fk_open(fk_ctx **out, const char *conninfo, const fk_ctx_options *opts);
void fk_close(fk_ctx *ctx);
const char *fk_errmsg(const fk_ctx *ctx);
int fk_errcode(const fk_ctx *ctx);
int fk_server_version(const fk_ctx *ctx);
int fk_exec(fk_ctx *ctx, const char *sql);

/* ------------------------------------------------------------- serialize.h */

typedef enum fk_format {
    FK_FORMAT_PARTHENON = 0,
    FK_FORMAT_CANONICAL = 1
} fk_format;

int fk_entity_serialize(char **out, size_t *out_len, fk_ctx *ctx, const char *entity_type,
                        int64_t id, fk_format format);
int fk_registry_describe(char **out, fk_ctx *ctx);
int fk_fixture_path(char **out, fk_ctx *ctx, const char *entity_type, const char *name,
                    int64_t id);

/* ---------------------------------------------------------------- report.h */

typedef struct fk_report fk_report;

typedef enum fk_severity {
    FK_SEV_INFO = 0,
    FK_SEV_WARNING = 1,
    FK_SEV_ERROR = 2
} fk_severity;

typedef struct fk_report_item {
    fk_severity severity;
    const char *code;
    const char *entity_type;
    int64_t entity_id;
    const char *path;
    const char *message;
    const char *fields;
    const char *hint;
} fk_report_item;

size_t fk_report_item_count(const fk_report *report);
const fk_report_item *fk_report_item_at(const fk_report *report, size_t index);
int64_t fk_report_counter(const fk_report *report, const char *name);
size_t fk_report_counter_count(const fk_report *report);
const char *fk_report_counter_at(const fk_report *report, size_t index, int64_t *value);
size_t fk_report_error_count(const fk_report *report);
int fk_report_json(char **out, const fk_report *report);
const char *fk_report_operation(const fk_report *report);
void fk_report_free(fk_report *report);

typedef enum fk_report_format_flags {
    FK_REPORT_FORMAT_JSON = 1,
    FK_REPORT_FORMAT_VERBOSE = 2,
    FK_REPORT_FORMAT_QUIET = 4
} fk_report_format_flags;

typedef enum fk_report_layout {
    FK_REPORT_LAYOUT_AUTO = 0,
    FK_REPORT_LAYOUT_COUNTERS = 1,
    FK_REPORT_LAYOUT_FINDINGS = 2,
    FK_REPORT_LAYOUT_ITEMS = 3
} fk_report_layout;

typedef struct fk_report_format_options {
    unsigned version;
    unsigned flags;
    fk_report_layout layout;
    const char *command;
    int status;
    int exit_status;
    const char *error;
    const char *summary;
    const char *data;
    const char *indent;
    const char *item_code;
    size_t max_items;
} fk_report_format_options;

int fk_report_format_options_init(fk_report_format_options *opts, unsigned version);
int fk_report_format(char **out, const fk_report *report, const fk_report_format_options *opts);
int fk_report_summary(char **out, const fk_report *report, int status, const char *subject);

/* -------------------------------------------------------------- registry.h */

typedef struct fk_registry_propose_options {
    unsigned version;
    const char *const *schemas;
    size_t nschemas;
    const char *const *tables;
    size_t ntables;
} fk_registry_propose_options;

int fk_registry_propose_options_init(fk_registry_propose_options *opts, unsigned version);
int fk_registry_propose(char **out, fk_ctx *ctx, const fk_registry_propose_options *opts);
int fk_registry_check(fk_report **out, fk_ctx *ctx);

/* -------------------------------------------------------------- fixtures.h */

typedef struct fk_progress {
    const char *operation;
    const char *entity_type;
    uint64_t done;
    uint64_t total;
} fk_progress;

typedef int (*fk_progress_fn)(const fk_progress *progress, void *userdata);

typedef enum fk_export_flags {
    FK_EXPORT_REPORT_FILES = 1,
    FK_EXPORT_FULL = 2
} fk_export_flags;

typedef struct fk_export_options {
    unsigned version;
    fk_format format;
    unsigned flags;
    fk_progress_fn progress;
    void *progress_data;
    const char *const *accept_loss;
    size_t naccept_loss;
    double drop_ratio;
} fk_export_options;

int fk_export_options_init(fk_export_options *opts, unsigned version);
int fk_export(fk_report **out, fk_ctx *ctx, const char *dir, const fk_export_options *opts);
int fk_export_entity(fk_ctx *ctx, const char *dir, const char *entity_type, int64_t id,
                     const char *json, fk_format format);
int fk_export_entities(fk_report **out, fk_ctx *ctx, const char *dir, const char *const *entity_types, const int64_t *ids, size_t n, fk_format format);

typedef enum fk_import_flags {
    FK_IMPORT_DRY_RUN = 1,
    FK_IMPORT_STRICT = 2,
    FK_IMPORT_SOFT_DELETE_MISSING = 4,
    FK_IMPORT_REPORT_ALL = 8
} fk_import_flags;

typedef enum fk_unknown_keys {
    FK_UNKNOWN_KEYS_REFUSE = 0,
    FK_UNKNOWN_KEYS_DROP = 1
} fk_unknown_keys;

typedef struct fk_key_map {
    unsigned version;
    const char *const *map;
    size_t nmap;
    const char *const *drop_key;
    size_t ndrop_key;
    const char *const *default_col;
    size_t ndefault_col;
} fk_key_map;

int fk_key_map_init(fk_key_map *map, unsigned version);

typedef struct fk_import_options {
    unsigned version;
    unsigned flags;
    const char *admin_email;
    fk_progress_fn progress;
    void *progress_data;
    fk_unknown_keys unknown_keys;
    const fk_key_map *key_map;
} fk_import_options;

int fk_import_options_init(fk_import_options *opts, unsigned version);
int fk_import(fk_report **out, fk_ctx *ctx, const char *dir, const fk_import_options *opts);

/* --------------------------------------------------------------- install.h */

typedef enum fk_audit_mode {
    FK_AUDIT_APP = 0,
    FK_AUDIT_CAPTURE = 1
} fk_audit_mode;

typedef enum fk_install_flags {
    FK_INSTALL_PARTHENON_TABLE = 1,
    FK_INSTALL_NO_GUARDS = 2,
    FK_INSTALL_ADD_SOFT_DELETE = 4
} fk_install_flags;

typedef struct fk_install_options {
    unsigned version;
    fk_audit_mode mode;
    unsigned flags;
    const char *app_role;
} fk_install_options;

int fk_install_options_init(fk_install_options *opts, unsigned version);
int fk_install(fk_report **out, fk_ctx *ctx, const fk_install_options *opts);
int fk_install_schema_version(void);
int fk_install_status(char **out, fk_ctx *ctx);

/* ----------------------------------------------------------------- audit.h */

typedef struct fk_audit_event {
    unsigned version;
    const char *entity_type;
    int64_t entity_id;
    const char *entity_name;
    const char *action;
    int64_t actor_id;
    const char *actor_email;
    const char *ip_address;
    const char *old_json;
    const char *new_json;
} fk_audit_event;

int fk_audit_event_init(fk_audit_event *ev, unsigned version);
int fk_audit_before(fk_ctx *ctx, const char *entity_type, int64_t id, const char *old_json);
size_t fk_audit_pending(const fk_ctx *ctx);
void fk_audit_forget(fk_ctx *ctx);
int fk_audit_write(int64_t *out_id, fk_ctx *ctx, const fk_audit_event *ev);
int fk_audit_write_many(int64_t *out_ids, fk_ctx *ctx, const fk_audit_event *events, size_t n);
int fk_audit_write_json(int64_t *out_id, fk_ctx *ctx, const char *event_json);
int fk_set_actor(fk_ctx *ctx, int64_t actor_id, const char *actor_email, const char *ip_address);
int fk_audit_seal(uint64_t *out_sealed, fk_ctx *ctx);
int fk_audit_verify(fk_report **out, fk_ctx *ctx, const char *anchor_dir);

typedef struct fk_audit_verify_options {
    unsigned version;
    const char *anchor_dir;
    fk_progress_fn progress;
    void *progress_data;
} fk_audit_verify_options;

int fk_audit_verify_options_init(fk_audit_verify_options *opts, unsigned version);
int fk_audit_verify_with(fk_report **out, fk_ctx *ctx, const fk_audit_verify_options *opts);

typedef struct fk_audit_query {
    unsigned version;
    const char *entity_type;
    int64_t entity_id;
    const char *since;
    int64_t limit;
} fk_audit_query;

int fk_audit_query_init(fk_audit_query *q, unsigned version);
int fk_audit_log(char **out, fk_ctx *ctx, const fk_audit_query *q);
int fk_json_diff(char **out, const char *old_json, const char *new_json);
int fk_audit_diff(char **out, const char *rows_json);
typedef enum fk_audit_log_format_flags {
    FK_AUDIT_LOG_FORMAT_DIFF = 1
} fk_audit_log_format_flags;
int fk_audit_log_format(char **out, const char *rows_json, unsigned flags);
int fk_entity_as_of(char **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                    const char *as_of, int64_t audit_id);
int fk_entity_restore(fk_report **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                      const char *as_of, int64_t audit_id);
int fk_entity_restore_mapped(fk_report **out, fk_ctx *ctx, const char *entity_type, int64_t id,
                             const char *as_of, int64_t audit_id, const struct fk_key_map *map);

typedef enum fk_restore_all_flags {
    FK_RESTORE_ALL_DRY_RUN = 1
} fk_restore_all_flags;

typedef struct fk_restore_all_options {
    unsigned version;
    unsigned flags;
    const char *as_of;
    const char *entity_type;
    fk_progress_fn progress;
    void *progress_data;
} fk_restore_all_options;

int fk_restore_all_options_init(fk_restore_all_options *opts, unsigned version);
int fk_restore_all(fk_report **out, fk_ctx *ctx, const fk_restore_all_options *opts);

/* -------------------------------------------------------------- recovery.h */

typedef struct fk_verify_options {
    unsigned version;
    unsigned flags;
    fk_progress_fn progress;
    void *progress_data;
} fk_verify_options;

int fk_verify_options_init(fk_verify_options *opts, unsigned version);
int fk_verify(fk_report **out, fk_ctx *ctx, const char *dir, const fk_verify_options *opts);
int fk_drill(fk_report **out, fk_ctx *ctx, const char *dir, const fk_verify_options *opts);

typedef struct fk_doctor_options {
    unsigned version;
    const char *fixture_dir;
    const char *backup_dir;
    double drop_warn_ratio;
    int64_t max_export_age_s;
    int64_t max_backup_age_s;
    double backup_shrink_ratio;
    double mass_change_ratio;
    int64_t mass_change_min;
    int64_t mass_change_window_s;
    const int64_t *accept_mass_change;
    size_t naccept_mass_change;
    fk_progress_fn progress;
    void *progress_data;
} fk_doctor_options;

int fk_doctor_options_init(fk_doctor_options *opts, unsigned version);
int fk_doctor(fk_report **out, fk_ctx *ctx, const fk_doctor_options *opts);
