<?php
return [
    'default' => 'stderr',
    'deprecations' => 'null',
    'channels' => [
        'stderr' => ['driver' => 'monolog', 'handler' => Monolog\Handler\StreamHandler::class,
                     'with' => ['stream' => 'php://stderr'], 'level' => 'error'],
        'null' => ['driver' => 'monolog', 'handler' => Monolog\Handler\NullHandler::class],
    ],
];
