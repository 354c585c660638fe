<?php

use App\Models\CohortDefinition;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Route;

// A model save (outside a transaction).
Route::post('/cohorts/{id}', function (Request $request, string $id) {
    $c = CohortDefinition::findOrFail((int) $id);
    $c->description = $request->input('description');
    $c->save();
    return 'saved';
});

// A query-builder update: no model event, no transaction.
Route::post('/cohorts/{id}/raw', function (Request $request, string $id) {
    DB::table('cohort_definitions')->where('id', (int) $id)->update(['description' => $request->input('description')]);
    return 'updated';
});
