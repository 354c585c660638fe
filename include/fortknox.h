/**
 * @file fortknox.h
 * @brief libfortknox: data-loss protection for the design tables of a
 *        PostgreSQL application.
 *
 * Include this one header; it pulls in every module:
 *  - fortknox/common.h  status codes, fk_free(), versions
 *  - fortknox/ctx.h     the connection context and errors
 *  - fortknox/serialize.h  one entity as its fixture document (layer 3)
 *  - fortknox/report.h  the report long operations return
 *  - fortknox/fixtures.h  export to and import from a fixture directory (layer 3)
 *  - fortknox/install.h   installing the audit log, capture triggers and guards
 *  - fortknox/audit.h     the tamper-evident audit log (layer 2)
 *  - fortknox/recovery.h  verify, drill and doctor
 *
 * Link with `pkg-config --cflags --libs fortknox`.
 */
#ifndef FORTKNOX_H
#define FORTKNOX_H

#include "fortknox/common.h"
#include "fortknox/ctx.h"
#include "fortknox/serialize.h"
#include "fortknox/registry.h"
#include "fortknox/report.h"
#include "fortknox/fixtures.h"
#include "fortknox/install.h"
#include "fortknox/audit.h"
#include "fortknox/recovery.h"

#endif /* FORTKNOX_H */
