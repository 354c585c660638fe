<?php

use App\Jobs\DescribeCohort;
use App\Models\CohortDefinition;
use App\Models\ConceptSet;
use App\Models\User;
use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\DB;

// A console command that declares who runs it (--as EMAIL): the audit log records that user.
Artisan::command('design {action : delete, restore or force-delete} {model : cohort or concept-set} {id} {--as= : the user (email)} {--allow= : SELECT fortknox.allow(KIND) first}',
    function (string $action, string $model, string $id) {
        if ($this->option('as')) {
            Auth::setUser(User::where('email', $this->option('as'))->firstOrFail());
        }
        $class = $model === 'cohort' ? CohortDefinition::class : ConceptSet::class;
        DB::transaction(function () use ($class, $action, $id) {
            if ($this->option('allow')) {
                DB::select('SELECT fortknox.allow(?)', [$this->option('allow')]);
            }
            $m = $class::withTrashed()->findOrFail((int) $id);
            match ($action) {
                'delete' => $m->delete(),
                'restore' => $m->restore(),
                'force-delete' => $m->forceDelete(),
            };
        });
        $this->line("$action $model $id: done");
    });

// Requests handled one after another by one long-lived process on one
// database connection (PHP-FPM with persistent connections, Octane, a queue
// worker): REQUESTS is a JSON list of {"method", "uri", "user", "body"}
// or {"job": [cohort id, description, user email or null]}.
Artisan::command('replay {requests}', function (string $requests) {
    $kernel = app(Illuminate\Contracts\Http\Kernel::class);
    foreach (json_decode($requests, true) as $r) {
        if (isset($r['job'])) { // a queued job (sync driver) run by this worker
            DescribeCohort::dispatch(...$r['job']);
            app('auth')->forgetGuards();
            $this->line('job ' . json_encode($r['job']));
            continue;
        }
        $request = Illuminate\Http\Request::create($r['uri'], $r['method'], $r['body'] ?? []);
        if (isset($r['user'])) {
            $request->headers->set('X-User-Id', (string) $r['user']);
        }
        $response = $kernel->handle($request);
        $kernel->terminate($request, $response);
        app('auth')->forgetGuards(); // the next request starts logged out
        $this->line($r['method'] . ' ' . $r['uri'] . ' ' . $response->getStatusCode());
    }
});
