<?php

declare(strict_types=1);

namespace FortKnox\Tests\Models;

use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Eloquent\Relations\HasMany;
use Illuminate\Database\Eloquent\SoftDeletes;

/** Parthenon's concept set with its items. */
class ConceptSet extends Model
{
    use SoftDeletes;

    protected $table = 'app.concept_sets';
    protected $guarded = [];
    protected $casts = ['expression_json' => 'array', 'tags' => 'array', 'is_public' => 'boolean'];

    public function items(): HasMany
    {
        return $this->hasMany(ConceptSetItem::class, 'concept_set_id');
    }
}
