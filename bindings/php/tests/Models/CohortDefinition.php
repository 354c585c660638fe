<?php

declare(strict_types=1);

namespace FortKnox\Tests\Models;

use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Eloquent\SoftDeletes;

/** Parthenon's cohort definition, as its Laravel model declares it. */
class CohortDefinition extends Model
{
    use SoftDeletes;

    protected $table = 'app.cohort_definitions';
    protected $guarded = [];
    protected $casts = ['expression_json' => 'array', 'tags' => 'array', 'is_public' => 'boolean'];
}
