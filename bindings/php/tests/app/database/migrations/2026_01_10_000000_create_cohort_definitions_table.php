<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

// Parthenon's cohort_definitions (a subset of its columns; tests/sql/parthenon_schema.sql).
class CreateCohortDefinitionsTable extends Migration
{
    public function up()
    {
        Schema::create('cohort_definitions', function (Blueprint $table) {
            $table->id();
            $table->string('name');
            $table->text('description')->nullable();
            $table->jsonb('expression_json')->nullable();
            $table->foreignId('author_id')->constrained('users');
            $table->boolean('is_public')->default(false);
            $table->integer('version')->default(1);
            $table->timestamps();
            $table->softDeletes();
            $table->jsonb('tags')->nullable();
        });
    }

    public function down()
    {
        Schema::dropIfExists('cohort_definitions');
    }
}
