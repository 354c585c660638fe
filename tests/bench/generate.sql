-- Benchmark data generator for the Parthenon test schema (tests/sql/).
--
-- Fills the design tables with fkbench.n entities of realistic shape, entirely
-- on the server (INSERT ... SELECT over generate_series; nothing row by row):
--   cohort_definitions   ~40 %  expression_json of 2-20 KB (OHDSI Atlas-like:
--                               concept sets, criteria, inclusion rules,
--                               nested objects and arrays, floats, strings)
--   concept_sets          25 %  20 concept_set_items each; half carry a small
--                               expression_json
--   7 analysis tables     28 %  (4 % each) design_json of ~0.6-1 KB
--   heor_analyses          7 %  half of them with 2 scenarios, 4 cost
--                               parameters and 2 results; every fourth with a
--                               value contract
-- About 5 % of every type is soft-deleted, 2 % of cohorts share the name
-- "Untitled Cohort" (file-name collisions), 1 % are superseded by another.
-- Values are derived from hashes of the row number, so a given N always
-- produces the same data. The design tables must be empty; users from the
-- seed (ids 1, 2, 117, 126, 135, 154, 195, 226, 327) are the authors.
--
-- Run on one connection after: SET fkbench.n = '<N>'; its temporary helpers
-- (pg_temp functions and tables) vanish with the session.

CREATE FUNCTION pg_temp.h(k bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT hashint8(k)::bigint & 2147483647';

CREATE FUNCTION pg_temp.pick(arr text[], k bigint) RETURNS text
    LANGUAGE sql IMMUTABLE AS 'SELECT arr[1 + pg_temp.h(k) % array_length(arr, 1)]';

CREATE FUNCTION pg_temp.author(k bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS 'SELECT (ARRAY[1, 2, 117, 126, 135, 154, 195, 226, 327])[1 + pg_temp.h(k) % 9]';

-- A timestamp(0) in 2024-2026, distinct per key.
CREATE FUNCTION pg_temp.ts(k bigint) RETURNS timestamp
    LANGUAGE sql IMMUTABLE
    AS 'SELECT (timestamp ''2024-01-01'' + make_interval(secs => pg_temp.h(k) % 63000000))::timestamp(0)';

CREATE TEMP TABLE words (w text[]);
INSERT INTO words VALUES (ARRAY[
    'hypertension', 'type 2 diabetes', 'atrial fibrillation', 'heart failure', 'asthma',
    'COPD', 'chronic kidney disease', 'hyperlipidemia', 'depression', 'stroke',
    'myocardial infarction', 'obesity', 'osteoporosis', 'rheumatoid arthritis', 'psoriasis',
    'Ménière''s disease', 'Sjögren syndrome', 'GI bleed', 'sepsis', 'anemia',
    'metformin', 'lisinopril', 'atorvastatin', 'semaglutide', 'warfarin', 'apixaban',
    'new users', 'prevalent users', 'incident cases', 'adults ≥ 65', 'pediatric']);

CREATE TEMP TABLE mix (kind text, n bigint);
INSERT INTO mix
SELECT kind, n FROM (
    SELECT current_setting('fkbench.n')::bigint AS total) t,
LATERAL (VALUES
    ('concept_sets', total * 25 / 100),
    ('analysis', total * 4 / 100),     -- per analysis table (7 of them)
    ('heor', total * 7 / 100)) v(kind, n)
UNION ALL
SELECT 'cohorts', total - total * 25 / 100 - 7 * (total * 4 / 100) - total * 7 / 100
FROM (SELECT current_setting('fkbench.n')::bigint AS total) t;

-- ---------------------------------------------------------------------------
-- cohort_definitions
INSERT INTO app.cohort_definitions (id, name, description, expression_json, author_id,
    is_public, version, created_at, updated_at, deleted_at, tags, share_token, domain,
    quality_tier, superseded_by, tenant_id, status)
SELECT g,
    CASE WHEN pg_temp.h(g * 31 + 1) % 50 = 0 THEN 'Untitled Cohort'
         ELSE initcap(pg_temp.pick(w, g * 31 + 2)) || ' with ' || pg_temp.pick(w, g * 31 + 3)
              || ' — cohort ' || g END,
    CASE WHEN g % 3 = 0 THEN NULL
         ELSE 'Patients with ' || pg_temp.pick(w, g * 31 + 4) || ' and a prior record of '
              || pg_temp.pick(w, g * 31 + 5) || ' in the 365 days before index; "study" '
              || g || E'.\nExcludes prior ' || pg_temp.pick(w, g * 31 + 6) || '.' END,
    jsonb_build_object(
        'ConceptSets', (
            SELECT jsonb_agg(jsonb_build_object(
                'id', cs,
                'name', initcap(pg_temp.pick(w, g * 97 + cs)) || ' concepts',
                'expression', jsonb_build_object('items', (
                    SELECT jsonb_agg(jsonb_build_object(
                        'concept', jsonb_build_object(
                            'CONCEPT_ID', 100000 + pg_temp.h(g * 1009 + cs * 31 + it) % 40000000,
                            'CONCEPT_NAME', initcap(pg_temp.pick(w, g * 1013 + cs * 37 + it)),
                            'DOMAIN_ID', (ARRAY['Condition', 'Drug', 'Measurement', 'Procedure'])[1 + (cs + it) % 4],
                            'VOCABULARY_ID', (ARRAY['SNOMED', 'RxNorm', 'LOINC', 'ICD10CM'])[1 + it % 4],
                            'CONCEPT_CLASS_ID', 'Clinical Finding',
                            'STANDARD_CONCEPT', 'S',
                            'INVALID_REASON', 'V',
                            'CONCEPT_CODE', (pg_temp.h(g * 1019 + cs * 41 + it) % 90000000)::text),
                        'isExcluded', (g + cs + it) % 9 = 0,
                        'includeMapped', (g + it) % 5 = 0,
                        'includeDescendants', true))
                    FROM generate_series(1, 4 + pg_temp.h(g * 7 + cs) % 3) it))))
            FROM generate_series(1, 1 + pg_temp.h(g * 13) % 10) cs),
        'PrimaryCriteria', jsonb_build_object(
            'CriteriaList', jsonb_build_array(
                jsonb_build_object('ConditionOccurrence', jsonb_build_object(
                    'CodesetId', 0, 'ConditionTypeExclude', false,
                    'OccurrenceStartDate', jsonb_build_object('Op', 'gt', 'Value', '2010-01-01'))),
                jsonb_build_object('DrugExposure', jsonb_build_object(
                    'CodesetId', 1, 'First', true,
                    'Age', jsonb_build_object('Op', 'gte', 'Value', 18)))),
            'ObservationWindow', jsonb_build_object('PriorDays', 365, 'PostDays', 0),
            'PrimaryCriteriaLimit', jsonb_build_object('Type', 'First')),
        'AdditionalCriteria', NULL,
        'InclusionRules', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'name', 'Rule ' || r || ': ' || pg_temp.pick(w, g * 53 + r),
                'description', CASE WHEN r % 2 = 0 THEN NULL ELSE 'at least one ' || pg_temp.pick(w, g * 59 + r) END,
                'expression', jsonb_build_object(
                    'Type', 'ALL',
                    'CriteriaList', jsonb_build_array(jsonb_build_object(
                        'Criteria', jsonb_build_object('Measurement', jsonb_build_object(
                            'CodesetId', r,
                            'ValueAsNumber', jsonb_build_object(
                                'Op', 'bt',
                                'Value', (pg_temp.h(g * 61 + r) % 100000) / 997.0::float8,
                                'Extent', (pg_temp.h(g * 67 + r) % 100000) / 991.0::float8))),
                        'StartWindow', jsonb_build_object(
                            'Start', jsonb_build_object('Days', 365, 'Coeff', -1),
                            'End', jsonb_build_object('Days', 0, 'Coeff', 1)),
                        'Occurrence', jsonb_build_object('Type', 2, 'Count', 1 + r % 3))),
                    'DemographicCriteriaList', '[]'::jsonb,
                    'Groups', '[]'::jsonb))), '[]'::jsonb)
            FROM generate_series(1, pg_temp.h(g * 17) % 5) r),
        'QualifiedLimit', jsonb_build_object('Type', 'First'),
        'ExpressionLimit', jsonb_build_object('Type', 'All'),
        'CollapseSettings', jsonb_build_object('CollapseType', 'ERA', 'EraPad', 0),
        'CensoringCriteria', '[]'::jsonb,
        'CensorWindow', '{}'::jsonb,
        'cdmVersionRange', '>=5.0.0',
        'weight', round((pg_temp.h(g * 71) % 10000) / 100.0, 2)),
    pg_temp.author(g * 31 + 7),
    g % 4 = 0,
    1 + g % 5,
    pg_temp.ts(g * 31 + 8),
    pg_temp.ts(g * 31 + 8) + interval '3 days',
    CASE WHEN pg_temp.h(g * 31 + 9) % 20 = 0 THEN pg_temp.ts(g * 31 + 8) + interval '30 days' END,
    CASE WHEN g % 3 = 1 THEN jsonb_build_array(pg_temp.pick(w, g * 31 + 10), 'phenotype') END,
    CASE WHEN g % 10 = 0 THEN md5('share' || g) END,
    (ARRAY['general', 'cardiovascular', 'metabolic', 'oncology'])[1 + g % 4],
    CASE WHEN g % 2 = 0 THEN 'gold' END,
    CASE WHEN g > 1 AND pg_temp.h(g * 31 + 11) % 100 = 0 THEN g - 1 END,
    1,
    'active'
FROM generate_series(1, (SELECT n FROM mix WHERE kind = 'cohorts')) g, words;

-- ---------------------------------------------------------------------------
-- concept_sets and their 20 items each
INSERT INTO app.concept_sets (id, name, description, expression_json, author_id, is_public,
    tags, created_at, updated_at, deleted_at, tenant_id, status)
SELECT g,
    initcap(pg_temp.pick(w, g * 43 + 1)) || ' concept set ' || g,
    CASE WHEN g % 2 = 0 THEN 'All formulations of ' || pg_temp.pick(w, g * 43 + 2) END,
    CASE WHEN g % 2 = 1 THEN jsonb_build_object(
        'items', (SELECT jsonb_agg(jsonb_build_object(
                      'concept', jsonb_build_object('CONCEPT_ID', 100000 + pg_temp.h(g * 20 + i) % 40000000),
                      'isExcluded', i % 7 = 0, 'includeDescendants', true, 'includeMapped', false))
                  FROM generate_series(1, 5) i),
        'version', 2.1) END,
    pg_temp.author(g * 43 + 3),
    g % 3 = 0,
    CASE WHEN g % 4 = 0 THEN '["drug", "library"]'::jsonb END,
    pg_temp.ts(g * 43 + 4),
    pg_temp.ts(g * 43 + 4) + interval '1 hour',
    CASE WHEN pg_temp.h(g * 43 + 5) % 20 = 0 THEN pg_temp.ts(g * 43 + 4) + interval '9 days' END,
    1,
    'active'
FROM generate_series(1, (SELECT n FROM mix WHERE kind = 'concept_sets')) g, words;

INSERT INTO app.concept_set_items (id, concept_set_id, concept_id, is_excluded,
    include_descendants, include_mapped, created_at, updated_at)
SELECT (g - 1) * 20 + i, g, 100000 + pg_temp.h(g * 20 + i) % 40000000, i % 7 = 0, i % 3 <> 0,
    i % 5 = 0, pg_temp.ts(g * 43 + 4), pg_temp.ts(g * 43 + 4)
FROM generate_series(1, (SELECT n FROM mix WHERE kind = 'concept_sets')) g,
     generate_series(1, 20) i;

-- ---------------------------------------------------------------------------
-- the seven analysis tables: one statement each, same generator
CREATE FUNCTION pg_temp.design(g bigint, salt int) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'targetCohortId', 1 + pg_temp.h(g * 7 + salt) % 1000,
        'comparatorCohortId', 1 + pg_temp.h(g * 11 + salt) % 1000,
        'outcomeCohortIds', (SELECT jsonb_agg(1 + pg_temp.h(g * 13 + o) % 1000)
                             FROM generate_series(1, 1 + pg_temp.h(g * 17 + salt) % 12) o),
        'model', jsonb_build_object('type', (ARRAY['cox', 'logistic', 'poisson'])[1 + g % 3],
                                    'timeAtRiskStart', 0, 'timeAtRiskEnd', 365 * (1 + g % 5),
                                    'endAnchor', 'cohort end'),
        'propensityScore', jsonb_build_object(
            'enabled', g % 5 <> 0,
            'trimming', 0.05,
            'matching', jsonb_build_object('ratio', 1 + g % 4,
                                           'caliper', round((pg_temp.h(g * 19) % 50) / 100.0, 2)),
            'stratification', jsonb_build_object('strata', 5)),
        'covariateSettings', jsonb_build_object(
            'useDemographics', true, 'useConditionOccurrence', true,
            'useDrugExposure', g % 2 = 0, 'useMeasurement', g % 3 = 0,
            'timeWindows', jsonb_build_array(jsonb_build_object('start', -365, 'end', 0),
                                             jsonb_build_object('start', -30, 'end', 0))),
        'negativeControlOutcomes', (SELECT coalesce(jsonb_agg(100000 + pg_temp.h(g * 23 + c) % 900000), '[]')
                                    FROM generate_series(1, pg_temp.h(g * 29 + salt) % 40) c),
        'notes', 'Generated design ' || g || ' for the libfortknox benchmark',
        'alpha', 0.05,
        'seed', pg_temp.h(g * 31 + salt) % 100000)
$$;

CREATE FUNCTION pg_temp.fill_analysis(tbl regclass, salt int) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO %s (id, name, description, design_json, author_id, created_at,
            updated_at, deleted_at, status)
        SELECT g,
            initcap(pg_temp.pick(w, g * 47 + %s)) || ' analysis ' || g,
            CASE WHEN g %% 3 <> 0 THEN 'Design for ' || pg_temp.pick(w, g * 47 + 1) END,
            pg_temp.design(g, %s),
            pg_temp.author(g * 47 + 2),
            pg_temp.ts(g * 47 + %s),
            pg_temp.ts(g * 47 + %s) + interval '2 days',
            CASE WHEN pg_temp.h(g * 47 + %s) %% 20 = 0 THEN pg_temp.ts(g * 47 + %s) + interval '5 days' END,
            'active'
        FROM generate_series(1, (SELECT n FROM pg_temp.mix WHERE kind = 'analysis')) g,
             pg_temp.words$q$, tbl, salt, salt, salt, salt, salt + 1, salt);
END
$$;

SELECT pg_temp.fill_analysis(t::regclass, i::int)
FROM unnest(ARRAY['app.characterizations', 'app.incidence_rate_analyses',
                  'app.pathway_analyses', 'app.estimation_analyses',
                  'app.prediction_analyses', 'app.sccs_analyses',
                  'app.evidence_synthesis_analyses']) WITH ORDINALITY AS x(t, i);

-- ---------------------------------------------------------------------------
-- heor_analyses; even ids have children (ids of children derived from the parent's)
INSERT INTO app.heor_analyses (id, created_by, source_id, name, analysis_type, description,
    perspective, time_horizon, discount_rate, currency, target_cohort_id,
    comparator_cohort_id, status, completed_at, created_at, updated_at, deleted_at)
SELECT g, pg_temp.author(g * 53 + 1), CASE WHEN g % 3 = 0 THEN 1000 + g % 2 END,
    initcap(pg_temp.pick(w, g * 53 + 2)) || ' budget impact ' || g,
    (ARRAY['cea', 'budget_impact', 'cost_effectiveness', 'roi'])[1 + g % 4],
    CASE WHEN g % 2 = 0 THEN 'Economic evaluation of ' || pg_temp.pick(w, g * 53 + 3) END,
    (ARRAY['payer', 'societal'])[1 + g % 2], (ARRAY['1_year', '5_year', 'lifetime'])[1 + g % 3],
    round((pg_temp.h(g * 53 + 4) % 600) / 10000.0, 4), 'USD',
    1 + g % 1000, CASE WHEN g % 2 = 0 THEN 2 + g % 1000 END,
    (ARRAY['draft', 'completed'])[1 + g % 2],
    CASE WHEN g % 2 = 1 THEN pg_temp.ts(g * 53 + 5) + interval '1 day' END,
    pg_temp.ts(g * 53 + 5), pg_temp.ts(g * 53 + 5) + interval '1 day',
    CASE WHEN pg_temp.h(g * 53 + 6) % 20 = 0 THEN pg_temp.ts(g * 53 + 5) + interval '7 days' END
FROM generate_series(1, (SELECT n FROM mix WHERE kind = 'heor')) g, words;

INSERT INTO app.heor_scenarios (id, analysis_id, name, scenario_type, description,
    parameter_overrides, is_base_case, sort_order, created_at, updated_at)
SELECT a.id * 2 + s, a.id, CASE WHEN s = 0 THEN 'Base case' ELSE 'Intervention' END,
    CASE WHEN s = 0 THEN 'baseline' ELSE 'intervention' END,
    CASE WHEN s = 1 THEN 'Adds the new therapy to the formulary' END,
    CASE WHEN s = 1 THEN jsonb_build_object('uptake', 0.35, 'price_cut', 0.125, 'years', 5) END,
    s = 0, s, a.created_at, a.updated_at
FROM app.heor_analyses a, generate_series(0, 1) s
WHERE a.id % 2 = 0;

INSERT INTO app.heor_cost_parameters (id, analysis_id, scenario_id, parameter_name,
    parameter_type, value, unit, lower_bound, upper_bound, distribution, omop_concept_id,
    source_reference, created_at, updated_at)
SELECT a.id * 4 + p, a.id, a.id * 2 + p % 2,
    (ARRAY['drug_cost', 'hospitalization', 'outpatient_visit', 'utility'])[1 + p],
    (ARRAY['cost', 'cost', 'cost', 'utility'])[1 + p],
    round((pg_temp.h(a.id * 4 + p) % 10000000) / 100.0, 4), 'USD',
    round((pg_temp.h(a.id * 4 + p) % 10000000) / 125.0, 4),
    round((pg_temp.h(a.id * 4 + p) % 10000000) / 80.0, 4),
    (ARRAY['gamma', 'lognormal', 'beta', 'normal'])[1 + p], 8500000 + p,
    'CMS fee schedule 2025, table ' || p, a.created_at, a.updated_at
FROM app.heor_analyses a, generate_series(0, 3) p
WHERE a.id % 2 = 0;

INSERT INTO app.heor_results (id, analysis_id, scenario_id, total_cost, total_qalys, total_lys,
    incremental_cost, incremental_qalys, icer, net_monetary_benefit,
    willingness_to_pay_threshold, roi_percent, payback_period_months, budget_impact_year1,
    budget_impact_year3, budget_impact_year5, sensitivity_results, tornado_data, cohort_size,
    created_at, updated_at)
SELECT a.id * 2 + s, a.id, a.id * 2 + s,
    1000000 + pg_temp.h(a.id * 2 + s) % 9000000 + 0.25, 1.5 + s * 0.25, 10.125, s * 15000.5,
    s * 0.125, CASE WHEN s = 1 THEN 120004.0 END, 5000.75, 100000, 12.5, 18.25,
    250000.5, 750000.5, 1250000.5,
    jsonb_build_object('iterations', 1000, 'mean_icer', 118000.25,
        'ci95', jsonb_build_array(90000.5, 150000.75)),
    (SELECT jsonb_agg(jsonb_build_object('parameter', 'p' || k, 'low', k * 1000.5, 'high', k * 2000.25))
     FROM generate_series(1, 8) k),
    1000 + a.id % 50000, a.created_at, a.updated_at
FROM app.heor_analyses a, generate_series(0, 1) s
WHERE a.id % 2 = 0;

INSERT INTO app.heor_value_contracts (id, analysis_id, created_by, contract_name, drug_name,
    contract_type, outcome_metric, baseline_rate, rebate_tiers, list_price, net_price_floor,
    measurement_period_months, status, effective_date, created_at, updated_at)
SELECT a.id, a.id, a.created_by, 'Outcomes contract ' || a.id, 'semaglutide', 'outcomes_based',
    'hba1c_control', 0.4125,
    '[{"threshold": 0.5, "rebate": 0.1}, {"threshold": 0.7, "rebate": 0.2}]'::jsonb,
    935.5, 700.25, 12, 'draft', a.created_at, a.created_at, a.updated_at
FROM app.heor_analyses a
WHERE a.id % 4 = 0;

-- ---------------------------------------------------------------------------
-- sequences past the generated ids
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['app.cohort_definitions', 'app.concept_sets', 'app.concept_set_items',
        'app.characterizations', 'app.incidence_rate_analyses', 'app.pathway_analyses',
        'app.estimation_analyses', 'app.prediction_analyses', 'app.sccs_analyses',
        'app.evidence_synthesis_analyses', 'app.heor_analyses', 'app.heor_scenarios',
        'app.heor_cost_parameters', 'app.heor_results', 'app.heor_value_contracts'] LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''), '
                       'coalesce((SELECT max(id) FROM %s), 0) + 1, false)', t, t);
    END LOOP;
END
$$;
