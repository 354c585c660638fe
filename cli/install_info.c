/* What fk_install_status() says, as C fields: install keeps the installed
 * choices that no flag overrides, and watch needs to know the audit mode. */
#include "cli.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

int cli_read_install(fk_ctx *ctx, cli_install_info *info, cli_result *r)
{
    memset(info, 0, sizeof *info);
    int rc = fk_install_status(&info->raw, ctx);
    if (rc != FK_OK) {
        cli_fail(r, rc, ctx);
        return rc;
    }
    cJSON *doc = cJSON_Parse(info->raw);
    info->installed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "installed"));
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(doc, "mode");
    info->capture = cJSON_IsString(mode) && strcmp(mode->valuestring, "capture") == 0;
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(doc, "audit_table");
    /* the Parthenon layout is the only audit table not named audit_log */
    info->parthenon_table = cJSON_IsString(table) && strstr(table->valuestring, "design_audit_log");
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(doc, "app_role");
    if (cJSON_IsString(role))
        snprintf(info->app_role, sizeof info->app_role, "%s", role->valuestring);
    cJSON_Delete(doc);
    return FK_OK;
}

void cli_install_info_free(cli_install_info *info)
{
    fk_free(info->raw);
    info->raw = NULL;
}
