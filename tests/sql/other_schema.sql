-- A small recipes application: a schema that is NOT Parthenon's, for
-- `fortknox registry init` / `registry check` and a full round trip with the
-- registry they make (tests/test_cli_registry.c). Every table is here for a
-- guess the proposal must make, said next to it.
--
-- Plain SQL only; run with psql -v ON_ERROR_STOP=1. Not idempotent.

CREATE SCHEMA kitchen;

-- the users table: the author columns reference it; it has an email column
-- and secrets (never exported: it is no entity type)
CREATE TABLE kitchen.users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    api_token     varchar(64) NULL
);

-- a lookup table without a soft-delete column: not proposed
CREATE TABLE kitchen.cuisines (
    id    serial PRIMARY KEY,
    label text NOT NULL UNIQUE
);

-- an entity type: soft-delete column deleted_at; name column "title";
-- author "created_by"; a self-reference; a secret column
CREATE TABLE kitchen.recipes (
    id           bigserial PRIMARY KEY,
    title        varchar(200) NOT NULL,
    summary      text NULL,
    cuisine_id   integer NULL REFERENCES kitchen.cuisines (id),
    created_by   bigint NOT NULL REFERENCES kitchen.users (id),
    variant_of   bigint NULL REFERENCES kitchen.recipes (id),
    servings     numeric(6,2) NULL,
    metadata     jsonb NULL,
    share_secret text NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz NULL
);

-- children of recipes (ON DELETE CASCADE): keys "steps" and "ingredients"
CREATE TABLE kitchen.recipe_steps (
    id          bigserial PRIMARY KEY,
    recipe_id   bigint NOT NULL REFERENCES kitchen.recipes (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    instruction text NOT NULL,
    UNIQUE (recipe_id, position)
);

CREATE TABLE kitchen.recipe_ingredients (
    id         bigserial PRIMARY KEY,
    recipe_id  bigint NOT NULL REFERENCES kitchen.recipes (id) ON DELETE CASCADE,
    ingredient text NOT NULL,
    quantity   text NULL
);

-- references recipes WITHOUT cascade: not a child (noted)
CREATE TABLE kitchen.ratings (
    id        bigserial PRIMARY KEY,
    recipe_id bigint NOT NULL REFERENCES kitchen.recipes (id),
    user_id   bigint NOT NULL REFERENCES kitchen.users (id),
    stars     smallint NOT NULL
);

-- no soft-delete column: proposed only when asked for (--table); its
-- author column is owner_id; a child with an integer key
CREATE TABLE kitchen.meal_plans (
    id       serial PRIMARY KEY,
    name     text NOT NULL,
    owner_id bigint NOT NULL REFERENCES kitchen.users (id),
    week_of  date NULL
);

CREATE TABLE kitchen.meal_plan_entries (
    id           serial PRIMARY KEY,
    meal_plan_id integer NOT NULL REFERENCES kitchen.meal_plans (id) ON DELETE CASCADE,
    day          smallint NOT NULL,
    note         text NULL
);

-- a soft-delete column but no integer primary key: left out (noted)
CREATE TABLE kitchen.comments (
    uid        uuid PRIMARY KEY,
    body       text NOT NULL,
    deleted_at timestamptz NULL
);

-- a boolean "deleted" flag: no soft-delete column the library can use
CREATE TABLE kitchen.newsletters (
    id         serial PRIMARY KEY,
    subject    text NOT NULL,
    is_deleted boolean NOT NULL DEFAULT false
);

-- another schema with a soft-delete table: left out by --schema-filter kitchen
CREATE SCHEMA staging;
CREATE TABLE staging.imports (
    id         serial PRIMARY KEY,
    source     text NOT NULL,
    deleted_at timestamp NULL
);

INSERT INTO kitchen.users (email, display_name, password_hash, api_token) VALUES
    ('admin@kitchen.example', 'Admin', 'x', NULL),
    ('ana@kitchen.example', 'Ana', '$2y$10$abcdefghijklmnopqrstuv', 'tok-ana'),
    ('ben@kitchen.example', 'Ben', '$2y$10$bcdefghijklmnopqrstuvw', NULL);
INSERT INTO kitchen.cuisines (label) VALUES ('Italian'), ('Thai');
INSERT INTO kitchen.recipes (id, title, summary, cuisine_id, created_by, variant_of, servings,
                             metadata, share_secret, created_at, deleted_at) VALUES
    (1, 'Tomato soup', 'Simple and red', 1, 2, NULL, 4, '{"tags": ["soup", "vegan"]}',
     'sh-1', '2026-01-02 03:04:05+00', NULL),
    (2, 'Spicy tomato soup', NULL, 1, 3, 1, 4.5, NULL, NULL, '2026-01-03 10:00:00+00', NULL),
    (3, 'Green curry', 'Thai, with basil', 2, 2, NULL, 2, '{"heat": 3}', 'sh-3',
     '2026-02-01 12:00:00+00', NULL),
    (4, 'Old pancakes', 'retired', NULL, 3, NULL, NULL, NULL, NULL, '2025-12-24 08:00:00+00',
     '2026-03-01 00:00:00+00');
SELECT setval('kitchen.recipes_id_seq', 4);
INSERT INTO kitchen.recipe_steps (recipe_id, position, instruction) VALUES
    (1, 1, 'Chop the tomatoes.'), (1, 2, 'Simmer for 20 minutes.'),
    (2, 1, 'Do as for tomato soup.'), (2, 2, 'Add chili.'),
    (3, 1, 'Fry the paste.'), (3, 2, 'Add coconut milk.'), (3, 3, 'Add basil.'),
    (4, 1, 'Mix, fry.');
INSERT INTO kitchen.recipe_ingredients (recipe_id, ingredient, quantity) VALUES
    (1, 'tomatoes', '1 kg'), (1, 'salt', NULL), (2, 'chili', '2'),
    (3, 'green curry paste', '2 tbsp'), (3, 'coconut milk', '400 ml');
INSERT INTO kitchen.ratings (recipe_id, user_id, stars) VALUES (1, 3, 5), (3, 3, 4);
INSERT INTO kitchen.meal_plans (name, owner_id, week_of) VALUES
    ('Week 1', 2, '2026-01-05'), ('Week 2', 3, NULL);
INSERT INTO kitchen.meal_plan_entries (meal_plan_id, day, note) VALUES
    (1, 1, 'soup'), (1, 3, 'curry'), (2, 2, NULL);
INSERT INTO kitchen.comments VALUES ('00000000-0000-0000-0000-000000000001', 'Nice', NULL);
INSERT INTO kitchen.newsletters (subject) VALUES ('Spring menu');
INSERT INTO staging.imports (source) VALUES ('csv');
