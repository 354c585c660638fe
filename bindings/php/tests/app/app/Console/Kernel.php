<?php

namespace App\Console;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    protected function schedule(Schedule $schedule)
    {
        // What bindings/php/README.md tells an application to schedule.
        $schedule->command('fortknox:doctor')->hourly();
        $schedule->command('fortknox:audit:verify')->daily();
    }

    protected function commands()
    {
        require base_path('routes/console.php');
    }
}
