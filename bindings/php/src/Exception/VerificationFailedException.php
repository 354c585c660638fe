<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * FK_EVERIFY: a check found differences or problems (verify, drill, doctor).
 * getReport() holds the full report: what differs, and why.
 */
class VerificationFailedException extends FortKnoxException
{
}
