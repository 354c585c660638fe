<?php

namespace Database\Seeders;

use Illuminate\Database\Seeder;
use Illuminate\Support\Facades\DB;

/**
 * What Parthenon's seeder did: empty the tables with TRUNCATE ... CASCADE,
 * then insert the demo rows. Run on a database with real designs, this is
 * the incident: CASCADE empties every table that references users.
 */
class DatabaseSeeder extends Seeder
{
    public function run()
    {
        DB::statement('TRUNCATE users, cohort_definitions, concept_sets, concept_set_items RESTART IDENTITY CASCADE');
        $now = '2026-01-15 09:00:00';
        DB::table('users')->insert([
            ['name' => 'Admin', 'email' => 'admin@example.org', 'password' => 'x', 'created_at' => $now, 'updated_at' => $now],
            ['name' => 'Mei-Lin Chen', 'email' => 'meilin.chen@example.org', 'password' => 'x', 'created_at' => $now, 'updated_at' => $now],
            ['name' => 'Priya Raman', 'email' => 'priya.raman@example.org', 'password' => 'x', 'created_at' => $now, 'updated_at' => $now],
        ]);
        DB::table('cohort_definitions')->insert([
            ['name' => 'Type 2 diabetes, new users of metformin', 'description' => 'first exposure',
             'expression_json' => '{"PrimaryCriteria": {"CriteriaList": [{"DrugExposure": {"CodesetId": 1}}]}}',
             'author_id' => 2, 'created_at' => $now, 'updated_at' => $now],
            ['name' => 'Heart failure admissions', 'description' => null,
             'expression_json' => '{"PrimaryCriteria": {"CriteriaList": [{"VisitOccurrence": {}}]}}',
             'author_id' => 3, 'created_at' => $now, 'updated_at' => $now],
        ]);
        DB::table('concept_sets')->insert([
            ['name' => 'Metformin', 'author_id' => 2, 'created_at' => $now, 'updated_at' => $now],
            ['name' => 'Asthma', 'author_id' => 3, 'created_at' => $now, 'updated_at' => $now],
        ]);
        DB::table('concept_set_items')->insert([
            ['concept_set_id' => 1, 'concept_id' => 1503297, 'created_at' => $now, 'updated_at' => $now],
            ['concept_set_id' => 2, 'concept_id' => 317009, 'created_at' => $now, 'updated_at' => $now],
            ['concept_set_id' => 2, 'concept_id' => 257581, 'created_at' => $now, 'updated_at' => $now],
        ]);
    }
}
