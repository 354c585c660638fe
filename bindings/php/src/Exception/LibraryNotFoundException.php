<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * libfortknox could not be loaded. The message lists every place that was
 * tried and why each failed; getTried() returns them as a list.
 * getCode() is FK_ENOTFOUND (-6).
 */
class LibraryNotFoundException extends FortKnoxException
{
    /** @var list<string> */
    private array $tried;

    /** @param list<string> $tried */
    public function __construct(string $message, array $tried)
    {
        $this->tried = $tried;
        if ($tried) {
            $message .= "; tried:\n  - " . implode("\n  - ", $tried);
        }
        parent::__construct($message, -6, 'FK_ENOTFOUND');
    }

    /** @return list<string> */
    public function getTried(): array
    {
        return $this->tried;
    }
}
