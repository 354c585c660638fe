<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * FK_EPARSE: malformed input (a fixture file, the registry file, a manifest,
 * a JSON argument). For a fixture the message starts with
 * "path:line:column: reason"; those parts are available separately.
 */
class ParseException extends FortKnoxException
{
    /** The file named by the message ("path:line:col: ..."), or null. */
    public function getSourcePath(): ?string
    {
        return $this->location()[0];
    }

    /** The line (1-based) named by the message, or null. */
    public function getSourceLine(): ?int
    {
        return $this->location()[1];
    }

    /** The column (1-based) named by the message, or null. */
    public function getSourceColumn(): ?int
    {
        return $this->location()[2];
    }

    /** @return array{0: ?string, 1: ?int, 2: ?int} */
    private function location(): array
    {
        if (preg_match('~^(.*?):(\d+):(\d+): ~', $this->getMessage(), $m)) {
            return [$m[1], (int) $m[2], (int) $m[3]];
        }
        return [null, null, null];
    }
}
