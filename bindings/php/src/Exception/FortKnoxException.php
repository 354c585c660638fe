<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * A libfortknox call failed. getCode() is the library's negative status
 * (FK_E*), getStatusName() its name ("FK_EDB"), getMessage() fk_errmsg().
 * Catch this class for any failure, or a subclass for one status.
 */
class FortKnoxException extends \RuntimeException
{
    /** Status code => exception class. */
    private const CLASSES = [
        -1 => InvalidArgumentException::class,
        -2 => OutOfMemoryException::class,
        -3 => DatabaseException::class,
        -4 => IoException::class,
        -5 => ParseException::class,
        -6 => NotFoundException::class,
        -7 => ConflictException::class,
        -8 => VerificationFailedException::class,
        -9 => TamperDetectedException::class,
        -10 => GuardException::class,
        -11 => UnsupportedException::class,
        -12 => CancelledException::class,
        -13 => LossException::class,
    ];

    private string $statusName;
    /** @var array<string, mixed>|null */
    private ?array $report;

    /** @param array<string, mixed>|null $report */
    public function __construct(string $message, int $code, string $statusName, ?array $report = null,
                                ?\Throwable $previous = null)
    {
        parent::__construct($message, $code, $previous);
        $this->statusName = $statusName;
        $this->report = $report;
    }

    /**
     * The exception for a library status: the subclass of that code (or this
     * class for an unknown one).
     * @param array<string, mixed>|null $report
     */
    public static function fromStatus(int $code, string $message, string $statusName,
                                      ?array $report = null): self
    {
        $class = self::CLASSES[$code] ?? self::class;
        return new $class($message, $code, $statusName, $report);
    }

    /** "FK_EDB", "FK_EPARSE", ... */
    public function getStatusName(): string
    {
        return $this->statusName;
    }

    /**
     * The operation's report, decoded from fk_report_json(), when the library
     * returned one with the failure (verify, drill, doctor: FK_EVERIFY; audit
     * verify: FK_ETAMPER); else null.
     * @return array<string, mixed>|null
     */
    public function getReport(): ?array
    {
        return $this->report;
    }
}
