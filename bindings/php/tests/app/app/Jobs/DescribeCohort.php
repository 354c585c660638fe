<?php

namespace App\Jobs;

use App\Models\CohortDefinition;
use App\Models\User;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Support\Facades\Auth;

/** A queued job acting for a user (its email travels with the job). */
class DescribeCohort implements ShouldQueue
{
    use Dispatchable;
    use Queueable;

    public function __construct(public int $id, public string $description, public ?string $as)
    {
    }

    public function handle()
    {
        if ($this->as !== null) {
            Auth::setUser(User::where('email', $this->as)->firstOrFail());
        }
        $c = CohortDefinition::findOrFail($this->id);
        $c->description = $this->description;
        $c->save();
    }
}
