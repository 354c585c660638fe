<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class ConceptSetItem extends Model
{
    protected $guarded = [];
}
