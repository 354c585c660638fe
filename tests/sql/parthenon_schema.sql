-- Parthenon (PostgreSQL 15) test schema for libfortknox.
--
-- Mirrors the tables of the Parthenon app that hold "designs" (and the ones they
-- reference) as they exist in a migrated Parthenon database: same column ORDER
-- (columns added by later migrations sit at the end, as PostgreSQL puts them
-- there), same types, defaults, NOT NULLs, foreign keys with their ON DELETE
-- rules and unique constraints. The physical column order is what Parthenon's
-- fixture exporter writes as the top-level key order of each fixture file, so it
-- must not be changed. Constraint names follow Laravel's conventions.
--
-- Plain SQL only (no psql meta-commands); run with psql -v ON_ERROR_STOP=1,
-- optionally with --single-transaction. Not idempotent. No triggers.
-- Nullability follows Laravel's rule: a column is NOT NULL unless its migration
-- made it ->nullable() (so e.g. name, author_id, is_public and boolean flags with a
-- default are NOT NULL; tenant_id is nullable with default 1).

CREATE SCHEMA app;

-- ---------------------------------------------------------------------------
-- users: never exported by Parthenon (holds password hashes).
CREATE TABLE app.users (
    id                       bigserial PRIMARY KEY,
    name                     varchar(255) NOT NULL,
    email                    varchar(255) NOT NULL,
    email_verified_at        timestamp(0) without time zone NULL,
    password                 varchar(255) NOT NULL,
    avatar                   varchar(255) NULL,
    provider                 varchar(255) NULL,
    provider_id              varchar(255) NULL,
    last_login_at            timestamp(0) without time zone NULL,
    remember_token           varchar(100) NULL,
    created_at               timestamp(0) without time zone NULL,
    updated_at               timestamp(0) without time zone NULL,
    notification_email       boolean NOT NULL DEFAULT true,
    notification_sms         boolean NOT NULL DEFAULT false,
    phone_number             varchar(255) NULL,
    notification_preferences json NULL,
    must_change_password     boolean NOT NULL DEFAULT true,
    onboarding_completed     boolean NOT NULL DEFAULT false,
    tenant_id                bigint NULL DEFAULT 1,
    CONSTRAINT users_email_unique UNIQUE (email)
);

-- ---------------------------------------------------------------------------
-- sources: deliberately minimal stand-in for Parthenon's CDM source registry
-- (only what heor_analyses.source_id needs).
CREATE TABLE app.sources (
    id          bigserial PRIMARY KEY,
    source_name varchar(255) NOT NULL,
    source_key  varchar(255) NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    CONSTRAINT sources_source_key_unique UNIQUE (source_key)
);

-- ---------------------------------------------------------------------------
-- cohort_definitions (22 columns). The fixtures end at promoted_at: this schema
-- has no expression_sha256 column (a later Parthenon migration adds one).
CREATE TABLE app.cohort_definitions (
    id               bigserial PRIMARY KEY,
    name             varchar(255) NOT NULL,
    description      text NULL,
    expression_json  jsonb NULL,
    author_id        bigint NOT NULL,
    is_public        boolean NOT NULL DEFAULT false,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamp(0) without time zone NULL,
    updated_at       timestamp(0) without time zone NULL,
    deleted_at       timestamp(0) without time zone NULL,
    tags             jsonb NULL,
    share_token      varchar(64) NULL,
    share_expires_at timestamp(0) without time zone NULL,
    domain           varchar(50) NOT NULL DEFAULT 'general',
    quality_tier     varchar(20) NULL,
    deprecated_at    timestamp(0) without time zone NULL,
    superseded_by    bigint NULL,
    tenant_id        bigint NULL DEFAULT 1,
    status           varchar(16) NOT NULL DEFAULT 'active',
    archived_at      timestamp(0) without time zone NULL,
    archived_by      bigint NULL,
    promoted_at      timestamp(0) without time zone NULL,
    CONSTRAINT cohort_definitions_share_token_unique UNIQUE (share_token),
    CONSTRAINT cohort_definitions_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT cohort_definitions_superseded_by_foreign
        FOREIGN KEY (superseded_by) REFERENCES app.cohort_definitions (id) ON DELETE SET NULL,
    CONSTRAINT cohort_definitions_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- ---------------------------------------------------------------------------
-- concept_sets (15 columns; fixtures add a trailing "items" array). No
-- expression_sha256 column: the fixtures do not have one.
CREATE TABLE app.concept_sets (
    id              bigserial PRIMARY KEY,
    name            varchar(255) NOT NULL,
    description     text NULL,
    expression_json jsonb NULL,
    author_id       bigint NOT NULL,
    is_public       boolean NOT NULL DEFAULT false,
    tags            jsonb NULL,
    created_at      timestamp(0) without time zone NULL,
    updated_at      timestamp(0) without time zone NULL,
    deleted_at      timestamp(0) without time zone NULL,
    tenant_id       bigint NULL DEFAULT 1,
    status          varchar(16) NOT NULL DEFAULT 'active',
    archived_at     timestamp(0) without time zone NULL,
    archived_by     bigint NULL,
    promoted_at     timestamp(0) without time zone NULL,
    CONSTRAINT concept_sets_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT concept_sets_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- concept_set_items (8 columns). Column order as in the fixtures' "items" rows:
-- the three flags come BEFORE the timestamps. No unique key on
-- (concept_set_id, concept_id).
CREATE TABLE app.concept_set_items (
    id                  bigserial PRIMARY KEY,
    concept_set_id      bigint NOT NULL,
    concept_id          integer NOT NULL,
    is_excluded         boolean NOT NULL DEFAULT false,
    include_descendants boolean NOT NULL DEFAULT true,
    include_mapped      boolean NOT NULL DEFAULT false,
    created_at          timestamp(0) without time zone NULL,
    updated_at          timestamp(0) without time zone NULL,
    CONSTRAINT concept_set_items_concept_set_id_foreign
        FOREIGN KEY (concept_set_id) REFERENCES app.concept_sets (id) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------
-- The seven analysis tables share one layout.

-- characterizations (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.characterizations (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT characterizations_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT characterizations_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- incidence_rate_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.incidence_rate_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT incidence_rate_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT incidence_rate_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- pathway_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.pathway_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT pathway_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT pathway_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- estimation_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.estimation_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT estimation_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT estimation_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- prediction_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.prediction_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT prediction_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT prediction_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- sccs_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.sccs_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT sccs_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT sccs_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- evidence_synthesis_analyses (12 columns: 8 original + 4 library lifecycle columns added later).
CREATE TABLE app.evidence_synthesis_analyses (
    id          bigserial PRIMARY KEY,
    name        varchar(255) NOT NULL,
    description text NULL,
    design_json jsonb NULL,
    author_id   bigint NOT NULL,
    created_at  timestamp(0) without time zone NULL,
    updated_at  timestamp(0) without time zone NULL,
    deleted_at  timestamp(0) without time zone NULL,
    status      varchar(16) NOT NULL DEFAULT 'active',
    archived_at timestamp(0) without time zone NULL,
    archived_by bigint NULL,
    promoted_at timestamp(0) without time zone NULL,
    CONSTRAINT evidence_synthesis_analyses_author_id_foreign
        FOREIGN KEY (author_id) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT evidence_synthesis_analyses_archived_by_foreign
        FOREIGN KEY (archived_by) REFERENCES app.users (id) ON DELETE SET NULL
);

-- ---------------------------------------------------------------------------
-- heor_analyses (17 columns). created_by is its author column; deleted_at was
-- added last (Fort Knox work). target/comparator cohort ids carry no FK.
CREATE TABLE app.heor_analyses (
    id                   bigserial PRIMARY KEY,
    created_by           bigint NOT NULL,
    source_id            bigint NULL,
    name                 varchar(255) NOT NULL,
    analysis_type        varchar(50) NOT NULL DEFAULT 'cea',
    description          text NULL,
    perspective          varchar(50) NOT NULL DEFAULT 'payer',
    time_horizon         varchar(30) NOT NULL DEFAULT '1_year',
    discount_rate        numeric(5,4) NOT NULL DEFAULT 0.03,
    currency             varchar(10) NOT NULL DEFAULT 'USD',
    target_cohort_id     integer NULL,
    comparator_cohort_id integer NULL,
    status               varchar(30) NOT NULL DEFAULT 'draft',
    completed_at         timestamp(0) without time zone NULL,
    created_at           timestamp(0) without time zone NULL,
    updated_at           timestamp(0) without time zone NULL,
    deleted_at           timestamp(0) without time zone NULL,
    CONSTRAINT heor_analyses_created_by_foreign
        FOREIGN KEY (created_by) REFERENCES app.users (id) ON DELETE NO ACTION,
    CONSTRAINT heor_analyses_source_id_foreign
        FOREIGN KEY (source_id) REFERENCES app.sources (id) ON DELETE SET NULL
);

-- Children of heor_analyses (never exported by Parthenon). Restore order:
-- heor_scenarios first, then heor_cost_parameters / heor_results (they reference
-- a scenario), heor_value_contracts any time after heor_analyses.

-- heor_scenarios (10 columns)
CREATE TABLE app.heor_scenarios (
    id                  bigserial PRIMARY KEY,
    analysis_id         bigint NOT NULL,
    name                varchar(255) NOT NULL,
    scenario_type       varchar(30) NOT NULL DEFAULT 'intervention',
    description         text NULL,
    parameter_overrides jsonb NULL,
    is_base_case        boolean NOT NULL DEFAULT false,
    sort_order          integer NOT NULL DEFAULT 0,
    created_at          timestamp(0) without time zone NULL,
    updated_at          timestamp(0) without time zone NULL,
    CONSTRAINT heor_scenarios_analysis_id_foreign
        FOREIGN KEY (analysis_id) REFERENCES app.heor_analyses (id) ON DELETE CASCADE
);

-- heor_cost_parameters (14 columns)
CREATE TABLE app.heor_cost_parameters (
    id               bigserial PRIMARY KEY,
    analysis_id      bigint NOT NULL,
    scenario_id      bigint NULL,
    parameter_name   varchar(255) NOT NULL,
    parameter_type   varchar(50) NOT NULL,
    value            numeric(15,4) NOT NULL,
    unit             varchar(50) NULL,
    lower_bound      numeric(15,4) NULL,
    upper_bound      numeric(15,4) NULL,
    distribution     varchar(30) NULL,
    omop_concept_id  integer NULL,
    source_reference text NULL,
    created_at       timestamp(0) without time zone NULL,
    updated_at       timestamp(0) without time zone NULL,
    CONSTRAINT heor_cost_parameters_analysis_id_foreign
        FOREIGN KEY (analysis_id) REFERENCES app.heor_analyses (id) ON DELETE CASCADE,
    CONSTRAINT heor_cost_parameters_scenario_id_foreign
        FOREIGN KEY (scenario_id) REFERENCES app.heor_scenarios (id) ON DELETE SET NULL
);

-- heor_results (21 columns)
CREATE TABLE app.heor_results (
    id                           bigserial PRIMARY KEY,
    analysis_id                  bigint NOT NULL,
    scenario_id                  bigint NOT NULL,
    total_cost                   numeric(18,2) NULL,
    total_qalys                  numeric(10,4) NULL,
    total_lys                    numeric(10,4) NULL,
    incremental_cost             numeric(18,2) NULL,
    incremental_qalys            numeric(10,4) NULL,
    icer                         numeric(18,2) NULL,
    net_monetary_benefit         numeric(18,2) NULL,
    willingness_to_pay_threshold numeric(18,2) NULL,
    roi_percent                  numeric(10,4) NULL,
    payback_period_months        numeric(10,2) NULL,
    budget_impact_year1          numeric(18,2) NULL,
    budget_impact_year3          numeric(18,2) NULL,
    budget_impact_year5          numeric(18,2) NULL,
    sensitivity_results          jsonb NULL,
    tornado_data                 jsonb NULL,
    cohort_size                  integer NULL,
    created_at                   timestamp(0) without time zone NULL,
    updated_at                   timestamp(0) without time zone NULL,
    CONSTRAINT heor_results_analysis_id_foreign
        FOREIGN KEY (analysis_id) REFERENCES app.heor_analyses (id) ON DELETE CASCADE,
    CONSTRAINT heor_results_scenario_id_foreign
        FOREIGN KEY (scenario_id) REFERENCES app.heor_scenarios (id) ON DELETE CASCADE
);

-- heor_value_contracts (16 columns)
CREATE TABLE app.heor_value_contracts (
    id                        bigserial PRIMARY KEY,
    analysis_id               bigint NOT NULL,
    created_by                bigint NOT NULL,
    contract_name             varchar(255) NOT NULL,
    drug_name                 varchar(255) NULL,
    contract_type             varchar(50) NOT NULL DEFAULT 'outcomes_based',
    outcome_metric            varchar(100) NOT NULL,
    baseline_rate             numeric(10,4) NULL,
    rebate_tiers              jsonb NULL,
    list_price                numeric(18,2) NULL,
    net_price_floor           numeric(18,2) NULL,
    measurement_period_months integer NOT NULL DEFAULT 12,
    status                    varchar(30) NOT NULL DEFAULT 'draft',
    effective_date            timestamp(0) without time zone NULL,
    created_at                timestamp(0) without time zone NULL,
    updated_at                timestamp(0) without time zone NULL,
    CONSTRAINT heor_value_contracts_analysis_id_foreign
        FOREIGN KEY (analysis_id) REFERENCES app.heor_analyses (id) ON DELETE CASCADE,
    CONSTRAINT heor_value_contracts_created_by_foreign
        FOREIGN KEY (created_by) REFERENCES app.users (id) ON DELETE NO ACTION
);
