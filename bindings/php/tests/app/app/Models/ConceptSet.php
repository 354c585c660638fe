<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Eloquent\SoftDeletes;

class ConceptSet extends Model
{
    use SoftDeletes;

    protected $guarded = [];
    protected $casts = ['expression_json' => 'array', 'tags' => 'array', 'is_public' => 'boolean'];

    public function items()
    {
        return $this->hasMany(ConceptSetItem::class);
    }
}
