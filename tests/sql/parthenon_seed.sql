-- Parthenon test seed data for libfortknox. Load AFTER parthenon_schema.sql.
--
-- Plain SQL, run with psql -v ON_ERROR_STOP=1 (optionally --single-transaction).
-- All ids are explicit, and chosen so that the 31 real fixtures in
-- shared/parthenon-fixtures/ can be imported on top of this seed without an id
-- collision:
--   users                 1, 2 (seed-only) and 117, 126, 135, 154, 195, 226, 327
--                         (every author_id / created_by in the fixtures)
--   sources               1000, 1001
--   design entities       1001.. (cohort_definitions 1001-1005, concept_sets
--                         1001-1003, every analysis table 1001(-1002),
--                         heor_analyses 1001-1002); fixture ids are < 1000
--                         except cohort 5428, which is avoided
--   child rows            100001.. (concept_set_items, heor_* children)
-- Every sequence is moved past its table's max id at the end.
-- Timestamps are UTC wall-clock values (columns are timestamp without time zone).
-- Passwords are fake bcrypt-shaped strings; remember_token/share_token values are
-- random secret-looking strings that must never appear in an export.

SET client_encoding = 'UTF8';

-- ---------------------------------------------------------------------------
-- users
INSERT INTO app.users (id, name, email, email_verified_at, password, avatar, provider,
                       provider_id, last_login_at, remember_token, created_at, updated_at,
                       notification_email, notification_sms, phone_number,
                       notification_preferences, must_change_password,
                       onboarding_completed, tenant_id)
VALUES
 (1, 'Parthenon Administrator', 'admin@acumenus.net', '2026-03-01 00:00:00',
  '$2y$12$3R.9/CyQ1JRImjdzKOmHNAiau7wEDh4FX1QyhCgv7CyDG06nzcCPv', NULL, NULL, NULL,
  '2026-05-13 02:40:17', '3rORRIb11yXOPxmQxpk6LFleqaHUpCJWoWy9Uv81Oy1GsuT7FTmKrghKIZhh',
  '2026-03-01 00:00:00', '2026-05-13 02:40:17', true, false, NULL,
  '{"digest": "daily", "channels": {"email": true, "sms": false}}', false, true, 1),
 (2, 'Dana Whitfield', 'dana.whitfield@example.org', '2026-03-02 09:12:44',
  '$2y$12$JMPC4oMlvy2/Y.gjBzQST4ytAQ97f3W5LMGeC02oBq.jTw5d7uFW3', NULL, NULL, NULL,
  '2026-04-30 16:05:09', '6czUYG7T4Qckk2zbFjOOwY9SuqfpOIj5NrppIYppllTFqURMxwO0LCaxKyo7',
  '2026-03-02 09:10:02', '2026-04-30 16:05:09', true, true, '+1-555-0142',
  '{"digest": "weekly", "channels": {"email": true, "sms": true}}', false, true, 1),
 (117, 'Elena Marsh', 'elena.marsh@example.org', '2026-03-15 02:50:00',
  '$2y$12$pw5/vknowXcErNhjdIPW1CZn0iGVKG3QHzAxOfLDBL3kXJnu8E2UA', NULL, NULL, NULL,
  '2026-05-13 02:50:31', 'nYIcBV6AqwbbTohviTEcKiiLTpD9ws8Lsr5ZoU7HXRNbWPVYdAkY6m59WFFb',
  '2026-03-15 02:50:00', '2026-05-13 02:50:31', true, false, NULL, NULL, false, true, 1),
 (126, 'Priya Raman', 'priya.raman@example.org', NULL,
  '$2y$12$.vFLsnG56.GEyqEkf3iFTHcRD1kSGpnuBNmc/KZ/bT3g7gbR2hnbi', NULL, 'google',
  '108273645519283746501', '2026-04-24 13:30:12', NULL,
  '2026-04-24 13:29:58', '2026-04-24 13:30:12', true, false, NULL, NULL, false, false, 1),
 (135, 'Tomás Okafor', 'tomas.okafor@example.org', '2026-03-17 03:20:00',
  '$2y$12$zMm4lLUwZKwA6eEWeeMZ2L034aB922s84uHDx6WIe6X7VMeMO5ggW', NULL, NULL, NULL,
  '2026-03-17 03:21:40', 'YJTtZM6hHEgamZjiEDefY9F19R1YzD4z5IUZnA9SJnZXEKsBokTvxzw0DEdj',
  '2026-03-17 03:20:00', '2026-03-17 03:21:40', false, false, NULL, NULL, true, false, 1),
 (154, 'Mei Lin Chen', 'meilin.chen@example.org', '2026-03-29 04:00:00',
  '$2y$12$YlpfZcE./YXjOEMt0Hy7GMAY2yedy3oytSbo1onoPLJbxwMzW0uF8', NULL, NULL, NULL,
  '2026-03-29 05:17:55', '9sJnwJyT6J6YBDOiHVemB2SrJs0OlS4nKNvuKcx7MBcHHQMhdh9Dq9ofwmtB',
  '2026-03-29 04:00:00', '2026-03-29 05:17:55', true, false, NULL, NULL, false, true, 1),
 (195, 'Jordan Blake', 'jordan.blake@example.org', '2026-04-10 17:00:00',
  '$2y$12$9Y7ZrdBNz5Rqecm/YKOVghzswsffePLX5UB6tb5Ye4oN6/ue4BGPv', NULL, NULL, NULL,
  '2026-04-10 19:49:20', 'UqvA7ceElowOJ5mjQ0smQb0SDRRVdnCyJZtkZ7Y0LuF05wRbYtHKC8Cj72WN',
  '2026-04-10 17:00:00', '2026-04-10 19:49:20', true, false, NULL, NULL, false, true, 1),
 (226, 'Care Bundle Service', 'care-bundles@example.org', NULL,
  '$2y$12$JotJyNuIFJGVCaFC2bzeUA8RMY7UxQkSM9eE7tQYhS3.MjKqN4vjo', NULL, NULL, NULL,
  NULL, NULL, '2026-04-07 07:59:00', '2026-04-07 07:59:00', false, false, NULL, NULL,
  false, true, 1),
 (327, 'Amara Nwosu', 'amara.nwosu@example.org', '2026-04-24 02:00:00',
  '$2y$12$DcWET/R00JZCphZLMqNk2/3C784ddnHWckAlCEUp7DOTq9Ti1NOSv', NULL, NULL, NULL,
  '2026-04-24 02:01:47', 'xQpMnqXBAy1djOMLxdlQVZ3Qvd4YeED3TKUtzE2fxZGaKfbtZJ7piCWuqfX5',
  '2026-04-24 02:00:00', '2026-04-24 02:01:47', true, false, NULL, NULL, false, true, 1);

-- ---------------------------------------------------------------------------
-- sources
INSERT INTO app.sources (id, source_name, source_key, created_at, updated_at, deleted_at)
VALUES
 (1000, 'Acumenus CDM (SynPUF 2.3M)', 'ACUMENUS', '2026-03-01 00:00:00', '2026-03-01 00:00:00', NULL),
 (1001, 'Eunomia GiBleed demo', 'EUNOMIA', '2026-03-01 00:00:00', '2026-04-02 11:14:09', NULL);

-- ---------------------------------------------------------------------------
-- cohort_definitions
--   1001 rich expression (nested objects, arrays, 0.5, 1.10), public
--   1002 unicode name, share_token set (a secret: must never be exported)
--   1003 deprecated + archived, superseded_by -> 1004
--   1004 successor of 1003 (version 2)
--   1005 soft-deleted, empty expression ([])
INSERT INTO app.cohort_definitions (id, name, description, expression_json, author_id,
       is_public, version, created_at, updated_at, deleted_at, tags, share_token,
       share_expires_at, domain, quality_tier, deprecated_at, superseded_by, tenant_id,
       status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'T2DM New Metformin Users',
  'Adults with a first type 2 diabetes diagnosis who start metformin within 90 days; HbA1c > 6.5% at baseline.',
  '{"ConceptSets": [{"id": 0, "name": "Type 2 diabetes mellitus", "expression": {"items": [{"concept": {"CONCEPT_ID": 201826, "CONCEPT_NAME": "Type 2 diabetes mellitus", "DOMAIN_ID": "Condition", "VOCABULARY_ID": "SNOMED"}, "isExcluded": false, "includeDescendants": true, "includeMapped": false}]}}, {"id": 1, "name": "Metformin", "expression": {"items": [{"concept": {"CONCEPT_ID": 1503297, "CONCEPT_NAME": "metformin", "DOMAIN_ID": "Drug", "VOCABULARY_ID": "RxNorm"}, "isExcluded": false, "includeDescendants": true, "includeMapped": false}]}}], "PrimaryCriteria": {"CriteriaList": [{"DrugExposure": {"CodesetId": 1, "First": true}}], "ObservationWindow": {"PriorDays": 365, "PostDays": 0}, "PrimaryCriteriaLimit": {"Type": "First"}}, "AdditionalCriteria": {"Type": "ALL", "CriteriaList": [{"Criteria": {"Measurement": {"CodesetId": 2, "ValueAsNumber": {"Op": "gt", "Value": 6.5}}}, "StartWindow": {"Start": {"Days": 90, "Coeff": -1}, "End": {"Days": 0, "Coeff": 1}}, "Occurrence": {"Type": 2, "Count": 1}}], "DemographicCriteriaList": [], "Groups": []}, "InclusionRules": [{"name": "Age >= 18", "expression": {"Type": "ALL", "DemographicCriteriaList": [{"Age": {"Op": "gte", "Value": 18}}]}}], "CensoringCriteria": [], "CollapseSettings": {"CollapseType": "ERA", "EraPad": 0}, "QualifiedLimit": {"Type": "First"}, "ExpressionLimit": {"Type": "First"}, "cdmVersionRange": ">=5.3.0", "weights": {"prior": 0.5, "ratio": 1.10, "threshold": 0.025}}',
  117, true, 3, '2026-03-15 02:58:11', '2026-04-02 09:41:27', NULL,
  '["diabetes", "metformin", "new-users"]', NULL, NULL, 'metabolic', 'study-ready',
  NULL, NULL, 1, 'active', NULL, NULL, '2026-04-02 09:41:27'),
 (1002, 'Café — naïve 日本',
  'Unicode round-trip check: naïve café patients (日本語の説明), "quoted" and back\slashed.',
  '{"ConceptSets": [], "PrimaryCriteria": {"CriteriaList": [{"ConditionOccurrence": {"CodesetId": 0, "ConditionTypeExclude": false}}], "ObservationWindow": {"PriorDays": 0, "PostDays": 0}}, "label": "naïve — 日本", "url": "https://example.org/a/b", "nested": {"a": {"b": {"c": [1, 2.5, null, true, "x"]}}}}',
  126, false, 1, '2026-04-24 13:40:00', '2026-04-24 13:52:18', NULL,
  '["unicode", "shared"]', '529b8ba8d333c1358d43809e917e7613f73a7640a9d4c64daaa6bdeff9e3e3e3',
  '2026-06-30 00:00:00', 'general', 'draft', NULL, NULL, 1, 'active', NULL, NULL, NULL),
 (1004, 'Heart Failure Hospitalization v2',
  'Inpatient heart failure admissions; replaces the v1 definition (tighter visit criteria).',
  '{"ConceptSets": [{"id": 0, "name": "Heart failure", "expression": {"items": [{"concept": {"CONCEPT_ID": 316139, "CONCEPT_NAME": "Heart failure"}, "includeDescendants": true}]}}], "PrimaryCriteria": {"CriteriaList": [{"ConditionOccurrence": {"CodesetId": 0, "VisitType": [{"CONCEPT_ID": 9201}]}}], "ObservationWindow": {"PriorDays": 180, "PostDays": 30}}, "EndStrategy": {"DateOffset": {"DateField": "EndDate", "Offset": 30}}}',
  117, true, 2, '2026-03-20 10:00:00', '2026-03-22 08:15:00', NULL,
  '["heart-failure", "cardiovascular"]', NULL, NULL, 'cardiovascular', 'validated',
  NULL, NULL, 1, 'active', NULL, NULL, '2026-03-22 08:15:00'),
 (1003, 'Heart Failure Hospitalization v1',
  'Original heart failure admission cohort; superseded by v2.',
  '{"ConceptSets": [{"id": 0, "name": "Heart failure", "expression": {"items": [{"concept": {"CONCEPT_ID": 316139}}]}}], "PrimaryCriteria": {"CriteriaList": [{"ConditionOccurrence": {"CodesetId": 0}}], "ObservationWindow": {"PriorDays": 0, "PostDays": 0}}}',
  117, false, 1, '2026-03-16 12:00:00', '2026-03-22 08:16:00', NULL,
  '["heart-failure"]', NULL, NULL, 'cardiovascular', NULL,
  '2026-03-22 08:16:00', 1004, 1, 'archived', '2026-03-22 08:16:00', 2, NULL),
 (1005, 'Scratch cohort (delete me)', NULL, '[]',
  154, false, 1, '2026-03-29 04:30:00', '2026-03-29 04:31:00', '2026-03-30 09:00:00',
  NULL, NULL, NULL, 'general', NULL, NULL, NULL, 1, 'active', NULL, NULL, NULL);

-- ---------------------------------------------------------------------------
-- concept_sets (1003 is soft-deleted) and their items
INSERT INTO app.concept_sets (id, name, description, expression_json, author_id, is_public,
       tags, created_at, updated_at, deleted_at, tenant_id, status, archived_at,
       archived_by, promoted_at)
VALUES
 (1001, 'Statins (seed)', 'HMG-CoA reductase inhibitors, ingredient level.',
  '{"items": [{"concept": {"CONCEPT_ID": 1545958, "CONCEPT_NAME": "atorvastatin"}, "isExcluded": false, "includeDescendants": true}]}',
  117, true, '["cad", "drugs"]', '2026-03-15 02:58:11', '2026-03-15 02:58:11', NULL, 1,
  'active', NULL, NULL, '2026-03-18 10:00:00'),
 (1002, 'ACE inhibitors — excl. combination products', NULL, NULL,
  126, false, '[]', '2026-04-24 13:37:02', '2026-04-24 13:38:40', NULL, 1,
  'archived', '2026-05-01 12:00:00', 2, NULL),
 (1003, 'Old asthma draft', 'Soft-deleted draft.', '[]',
  154, false, NULL, '2026-03-29 04:10:00', '2026-03-29 04:10:00', '2026-03-30 09:05:00', 1,
  'active', NULL, NULL, NULL);

INSERT INTO app.concept_set_items (id, concept_set_id, concept_id, is_excluded,
       include_descendants, include_mapped, created_at, updated_at)
VALUES
 (100001, 1001, 1545958, false, true,  false, '2026-03-15 02:58:11', '2026-03-15 02:58:11'),
 (100002, 1001, 1539403, false, true,  true,  '2026-03-15 02:58:11', '2026-03-15 02:58:11'),
 (100003, 1001, 1551860, true,  false, false, '2026-03-15 02:58:11', '2026-03-16 08:00:00'),
 (100004, 1002, 1308216, false, true,  false, '2026-04-24 13:37:02', '2026-04-24 13:37:02'),
 (100005, 1002, 1335471, false, false, true,  '2026-04-24 13:37:02', '2026-04-24 13:37:02'),
 (100006, 1002, 1341927, true,  true,  false, '2026-04-24 13:38:27', '2026-04-24 13:38:40'),
 (100007, 1003, 317009,  false, true,  false, '2026-03-29 04:10:00', '2026-03-29 04:10:00'),
 (100008, 1003, 257581,  true,  true,  true,  '2026-03-29 04:10:00', '2026-03-29 04:10:00'),
 (100009, 1003, 4051466, false, false, false, '2026-03-29 04:10:00', '2026-03-29 04:10:00');

-- ---------------------------------------------------------------------------
-- The seven analysis tables (design_json references seed cohort ids)
INSERT INTO app.characterizations (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'T2DM Metformin Baseline Characterization', 'Baseline covariates of new metformin users.',
  '{"targetCohortIds": [1001], "comparatorCohortIds": [], "featureTypes": ["demographics", "conditions", "drugs"], "stratifyByGender": true, "stratifyByAge": false, "topN": 100, "minCellCount": 5, "timeWindows": [{"start": -365, "end": 0}, {"start": 1, "end": 365}]}',
  117, '2026-03-16 09:00:00', '2026-03-16 09:30:00', NULL, 'active', NULL, NULL, NULL),
 (1002, 'Abandoned characterization', NULL, '[]',
  154, '2026-03-29 04:40:00', '2026-03-29 04:40:00', '2026-03-30 09:10:00', 'active', NULL, NULL, NULL);

INSERT INTO app.incidence_rate_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'HF Hospitalization Rate in T2DM', 'Incidence of HF hospitalization among new metformin users.',
  '{"targetCohortIds": [1001], "outcomeCohortIds": [1004], "timeAtRisk": {"start": {"dateField": "StartDate", "offset": 0}, "end": {"dateField": "EndDate", "offset": 0}}, "studyWindow": null, "strata": [{"name": "Age 65+", "criteria": {"age": {"op": "gte", "value": 65}}}], "ratePer": 1000, "confidenceLevel": 0.95}',
  117, '2026-03-17 10:00:00', '2026-03-17 10:00:00', NULL, 'active', NULL, NULL, NULL);

INSERT INTO app.pathway_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'Second-line therapy after metformin', NULL,
  '{"targetCohortIds": [1001], "eventCohortIds": [1004, 1002], "combinationWindow": 30, "minSegmentDuration": 0, "maxDepth": 5, "allowRepeats": false, "minCellCount": 5}',
  126, '2026-04-25 08:00:00', '2026-04-25 08:00:00', NULL, 'archived', '2026-05-02 12:00:00', 2, NULL);

INSERT INTO app.estimation_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'Metformin vs Sulfonylurea: HF Hospitalization', 'New-user comparative cohort design with PS matching.',
  '{"targetCohortId": 1001, "comparatorCohortId": 1002, "outcomeCohortIds": [1004], "negativeControlOutcomeIds": [], "propensityScore": {"matching": {"caliper": 0.2, "caliperScale": "standardized logit", "maxRatio": 1}, "trimming": null}, "model": {"type": "cox", "stratified": true}, "timeAtRisk": {"riskWindowStart": 1, "riskWindowEnd": 0, "endAnchor": "cohort end"}, "priorOutcomeLookback": 99999}',
  117, '2026-03-18 11:00:00', '2026-03-19 12:00:00', NULL, 'active', NULL, NULL, '2026-03-19 12:00:00');

INSERT INTO app.prediction_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, '1-year HF Hospitalization Risk in T2DM', NULL,
  '{"targetCohortId": 1001, "outcomeCohortId": 1004, "model": {"type": "lassoLogisticRegression", "variance": 0.01, "seed": 42}, "split": {"testFraction": 0.25, "splitSeed": 123, "nfold": 3}, "timeAtRisk": {"start": 1, "end": 365}, "covariateSettings": {"useDemographicsGender": true, "useDemographicsAge": true, "useConditionGroupEraLongTerm": true}}',
  154, '2026-03-29 06:00:00', '2026-03-29 06:10:00', NULL, 'active', NULL, NULL, NULL);

INSERT INTO app.sccs_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'SCCS: Metformin and GI Bleed', 'Within-person comparison of exposed vs unexposed time.',
  '{"exposureCohortIds": [1001], "outcomeCohortId": 1004, "riskWindows": [{"label": "exposed", "start": 0, "end": 0, "endAnchor": "era end"}], "preExposureWindow": {"start": -30, "end": -1}, "naivePeriod": 180, "firstOutcomeOnly": true, "ageAdjustment": false, "seasonalityAdjustment": true}',
  195, '2026-04-10 18:00:00', '2026-04-10 18:00:00', NULL, 'active', NULL, NULL, NULL);

INSERT INTO app.evidence_synthesis_analyses (id, name, description, design_json, author_id,
       created_at, updated_at, deleted_at, status, archived_at, archived_by, promoted_at)
VALUES
 (1001, 'Meta-analysis: Metformin and HF across sources', NULL,
  '{"estimates": [{"sourceId": 1000, "logRr": -0.105, "seLogRr": 0.041}, {"sourceId": 1001, "logRr": -0.2, "seLogRr": 0.12}], "method": "bayesian", "chainLength": 1100000, "burnIn": 100000, "subSample": 100}',
  117, '2026-03-20 00:40:00', '2026-03-20 00:40:00', NULL, 'active', NULL, NULL, NULL);

-- ---------------------------------------------------------------------------
-- heor_analyses (1002 is soft-deleted) and the children of 1001
INSERT INTO app.heor_analyses (id, created_by, source_id, name, analysis_type, description,
       perspective, time_horizon, discount_rate, currency, target_cohort_id,
       comparator_cohort_id, status, completed_at, created_at, updated_at, deleted_at)
VALUES
 (1001, 117, 1000, 'SGLT2i vs Sulfonylurea Cost-Effectiveness in T2DM', 'cea',
  'Lifetime cost per QALY of adding an SGLT2 inhibitor vs a sulfonylurea after metformin failure.',
  'payer', 'lifetime', 0.0350, 'USD', 1001, 1002, 'completed', '2026-03-21 14:05:33',
  '2026-03-21 13:00:00', '2026-03-21 14:05:33', NULL),
 (1002, 135, NULL, 'Scratch budget impact', 'budget_impact', NULL,
  'payer', '1_year', 0.03, 'EUR', NULL, NULL, 'draft', NULL,
  '2026-03-17 03:30:00', '2026-03-17 03:30:00', '2026-03-17 03:45:00');

INSERT INTO app.heor_scenarios (id, analysis_id, name, scenario_type, description,
       parameter_overrides, is_base_case, sort_order, created_at, updated_at)
VALUES
 (100001, 1001, 'Status quo (sulfonylurea)', 'comparator', 'Current formulary.',
  NULL, true, 0, '2026-03-21 13:00:00', '2026-03-21 13:00:00'),
 (100002, 1001, 'SGLT2 inhibitor added', 'intervention', NULL,
  '{"drug_cost_monthly": 498.5, "uptake": {"year1": 0.15, "year3": 0.35}}', false, 1,
  '2026-03-21 13:00:00', '2026-03-21 13:10:00');

INSERT INTO app.heor_cost_parameters (id, analysis_id, scenario_id, parameter_name,
       parameter_type, value, unit, lower_bound, upper_bound, distribution,
       omop_concept_id, source_reference, created_at, updated_at)
VALUES
 (100001, 1001, 100002, 'Empagliflozin monthly cost', 'drug_cost', 498.5000, 'USD/month',
  420.0000, 560.0000, 'gamma', 45774751, 'NADAC 2026-Q1', '2026-03-21 13:05:00', '2026-03-21 13:05:00'),
 (100002, 1001, NULL, 'HF hospitalization', 'hospitalization', 15234.7500, 'per_event',
  11000.0000, 19500.0000, 'log_normal', NULL, NULL, '2026-03-21 13:05:00', '2026-03-21 13:05:00'),
 (100003, 1001, NULL, 'Utility, controlled T2DM', 'utility_value', 0.7850, 'QALY',
  0.7200, 0.8400, 'beta', NULL, 'Published EQ-5D-5L value set (test data)', '2026-03-21 13:06:00', '2026-03-21 13:06:00');

INSERT INTO app.heor_results (id, analysis_id, scenario_id, total_cost, total_qalys,
       total_lys, incremental_cost, incremental_qalys, icer, net_monetary_benefit,
       willingness_to_pay_threshold, roi_percent, payback_period_months,
       budget_impact_year1, budget_impact_year3, budget_impact_year5,
       sensitivity_results, tornado_data, cohort_size, created_at, updated_at)
VALUES
 (100001, 1001, 100001, 187250.40, 11.2034, 14.8810, NULL, NULL, NULL, NULL,
  100000.00, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 48211,
  '2026-03-21 14:05:33', '2026-03-21 14:05:33'),
 (100002, 1001, 100002, 201980.15, 11.5120, 15.0402, 14729.75, 0.3086, 47730.88, 16130.25,
  100000.00, 12.5000, 38.50, 2150000.00, 5980000.50, 9120000.00,
  '{"psa": {"iterations": 1000, "probCostEffective": 0.82}, "oneWay": [{"parameter": "Empagliflozin monthly cost", "low": 39000.1, "high": 56000.9}]}',
  '[{"parameter": "Empagliflozin monthly cost", "low": -8730.78, "high": 8270.02}, {"parameter": "HF hospitalization", "low": 4100.5, "high": -3900.25}]',
  48211, '2026-03-21 14:05:33', '2026-03-21 14:05:33');

INSERT INTO app.heor_value_contracts (id, analysis_id, created_by, contract_name, drug_name,
       contract_type, outcome_metric, baseline_rate, rebate_tiers, list_price,
       net_price_floor, measurement_period_months, status, effective_date, created_at,
       updated_at)
VALUES
 (100001, 1001, 117, 'SGLT2i HF-readmission guarantee', 'empagliflozin', 'outcomes_based',
  'hf_readmission_rate', 0.1820,
  '[{"threshold": 0.15, "rebate_percent": 5}, {"threshold": 0.12, "rebate_percent": 12.5}]',
  598.00, 450.00, 12, 'active', '2026-07-01 00:00:00', '2026-03-21 14:30:00', '2026-03-21 14:30:00');

-- ---------------------------------------------------------------------------
-- Move every sequence past the explicit ids.
SELECT setval(pg_get_serial_sequence('app.users', 'id'), (SELECT max(id) FROM app.users));
SELECT setval(pg_get_serial_sequence('app.sources', 'id'), (SELECT max(id) FROM app.sources));
SELECT setval(pg_get_serial_sequence('app.cohort_definitions', 'id'), (SELECT max(id) FROM app.cohort_definitions));
SELECT setval(pg_get_serial_sequence('app.concept_sets', 'id'), (SELECT max(id) FROM app.concept_sets));
SELECT setval(pg_get_serial_sequence('app.concept_set_items', 'id'), (SELECT max(id) FROM app.concept_set_items));
SELECT setval(pg_get_serial_sequence('app.characterizations', 'id'), (SELECT max(id) FROM app.characterizations));
SELECT setval(pg_get_serial_sequence('app.incidence_rate_analyses', 'id'), (SELECT max(id) FROM app.incidence_rate_analyses));
SELECT setval(pg_get_serial_sequence('app.pathway_analyses', 'id'), (SELECT max(id) FROM app.pathway_analyses));
SELECT setval(pg_get_serial_sequence('app.estimation_analyses', 'id'), (SELECT max(id) FROM app.estimation_analyses));
SELECT setval(pg_get_serial_sequence('app.prediction_analyses', 'id'), (SELECT max(id) FROM app.prediction_analyses));
SELECT setval(pg_get_serial_sequence('app.sccs_analyses', 'id'), (SELECT max(id) FROM app.sccs_analyses));
SELECT setval(pg_get_serial_sequence('app.evidence_synthesis_analyses', 'id'), (SELECT max(id) FROM app.evidence_synthesis_analyses));
SELECT setval(pg_get_serial_sequence('app.heor_analyses', 'id'), (SELECT max(id) FROM app.heor_analyses));
SELECT setval(pg_get_serial_sequence('app.heor_scenarios', 'id'), (SELECT max(id) FROM app.heor_scenarios));
SELECT setval(pg_get_serial_sequence('app.heor_cost_parameters', 'id'), (SELECT max(id) FROM app.heor_cost_parameters));
SELECT setval(pg_get_serial_sequence('app.heor_results', 'id'), (SELECT max(id) FROM app.heor_results));
SELECT setval(pg_get_serial_sequence('app.heor_value_contracts', 'id'), (SELECT max(id) FROM app.heor_value_contracts));
