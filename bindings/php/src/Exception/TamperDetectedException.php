<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * FK_ETAMPER: the audit hash chain (or a fixture manifest) was altered.
 * getReport() holds the audit verification report naming the first bad row.
 */
class TamperDetectedException extends FortKnoxException
{
}
