/* --map, --drop-key and --default, shared by import and restore: the
 * command line's reading of documents whose keys drifted from their tables,
 * as an fk_key_map. Only the shape is checked here (so a malformed entry is
 * a usage error even without a database); the library checks the names. */
#include <string.h>

#include "cli.h"

int cli_key_map(cli *c, fk_key_map *km, const cli_key_map_args *a)
{
    fk_key_map_init(km, FK_KEY_MAP_VERSION);
    for (size_t i = 0; i < a->map.n; i++) {
        const char *eq = strchr(a->map.v[i], '=');
        if (!eq || eq == a->map.v[i] || !eq[1])
            return cli_usage(c, "--map \"%s\": expected [TABLE.]OLD=NEW (the documents' key OLD "
                                "fills column NEW)",
                             a->map.v[i]);
    }
    const cli_list *lists[2] = {&a->drop_key, &a->defaults};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!*lists[l]->v[i] || strchr(lists[l]->v[i], '='))
                return cli_usage(c, "%s \"%s\": expected [TABLE.]%s", l ? "--default" : "--drop-key",
                                 lists[l]->v[i], l ? "COLUMN" : "KEY");
    km->map = a->map.v;
    km->nmap = a->map.n;
    km->drop_key = a->drop_key.v;
    km->ndrop_key = a->drop_key.n;
    km->default_col = a->defaults.v;
    km->ndefault_col = a->defaults.n;
    return CLI_CONTINUE;
}
