<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Parthenon's concept_sets and their items (ON DELETE CASCADE: the items are the set's).
class CreateConceptSetsTable extends Migration
{
    public function up()
    {
        Schema::create('concept_sets', function (Blueprint $table) {
            $table->id();
            $table->string('name');
            $table->text('description')->nullable();
            $table->jsonb('expression_json')->nullable();
            $table->foreignId('author_id')->constrained('users');
            $table->boolean('is_public')->default(false);
            $table->jsonb('tags')->nullable();
            $table->timestamps();
            $table->softDeletes();
        });
        Schema::create('concept_set_items', function (Blueprint $table) {
            $table->id();
            $table->foreignId('concept_set_id')->constrained('concept_sets')->cascadeOnDelete();
            $table->integer('concept_id');
            $table->boolean('is_excluded')->default(false);
            $table->boolean('include_descendants')->default(true);
            $table->boolean('include_mapped')->default(false);
            $table->timestamps();
        });
    }

    public function down()
    {
        Schema::dropIfExists('concept_set_items');
        Schema::dropIfExists('concept_sets');
    }
}
