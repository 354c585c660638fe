<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Eloquent\SoftDeletes;

class CohortDefinition extends Model
{
    use SoftDeletes;

    protected $guarded = [];
    protected $casts = ['expression_json' => 'array', 'tags' => 'array', 'is_public' => 'boolean'];
}
