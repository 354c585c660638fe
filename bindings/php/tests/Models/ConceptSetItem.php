<?php

declare(strict_types=1);

namespace FortKnox\Tests\Models;

use Illuminate\Database\Eloquent\Model;

/** An item of a concept set (a child row: audited as part of its set). */
class ConceptSetItem extends Model
{
    protected $table = 'app.concept_set_items';
    protected $guarded = [];
    protected $casts = ['is_excluded' => 'boolean', 'include_descendants' => 'boolean', 'include_mapped' => 'boolean'];
}
